// The text pipeline shared by both BM25 backends, so they index and query the very same terms:
//   lowercase -> split on every non-alphanumeric character -> drop Lucene's English stopwords -> Porter stem.
// The stemmer and the stopword filter are lunr's own functions (lunr.stemmer, lunr.generateStopWordFilter); the
// lunr backend plugs them into its builder pipeline and the compact engine calls the same functions here.
// Measured on SciFact test (nDCG@10): lunr's default tokenizer (whitespace and hyphen) and its ~120-word stopword
// list cost ~0.06 against this pipeline, which reaches Anserini's flat-index figure.
import lunr from 'lunr';

/** Unicode letters and digits form words; everything else separates them (as Lucene's tokenizers mostly do). */
const WORD_SEPARATOR = /[^\p{L}\p{N}]+/u;

/** Lucene's EnglishAnalyzer stopword set (33 words), the list Anserini's BM25 baselines use. */
const LUCENE_ENGLISH_STOPWORDS: readonly string[] = [
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it', 'no', 'not', 'of',
  'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they', 'this', 'to', 'was', 'will', 'with',
];

/** lunr pipeline function; registered so a lunr index that references it can be serialised and loaded. */
export const luceneStopWordFilter = lunr.generateStopWordFilter([...LUCENE_ENGLISH_STOPWORDS]);
lunr.Pipeline.registerFunction(luceneStopWordFilter, 'luceneEnglishStopWords');

/** Lowercased words of `text` in order, stopwords included (the lunr backend filters them in its pipeline). */
export function splitWords(text: string): string[] {
  const words = text.toLowerCase().split(WORD_SEPARATOR);
  // split() yields an empty string at each end when the text starts or ends with a separator.
  if (words.length > 0 && words[words.length - 1] === '') words.pop();
  if (words.length > 0 && words[0] === '') words.shift();
  return words;
}

// Stemming is the costliest step; natural-language vocabularies repeat heavily, so results are cached. The cache
// is bounded so an adversarial vocabulary cannot grow it without limit.
const STEM_CACHE_LIMIT = 1 << 20;
const stemCache = new Map<string, string>();

function stem(word: string): string {
  const cached = stemCache.get(word);
  if (cached !== undefined) return cached;
  const stemmed = lunr.stemmer(new lunr.Token(word, {})).toString();
  if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
  stemCache.set(word, stemmed);
  return stemmed;
}

const stopwordSet = new Set(LUCENE_ENGLISH_STOPWORDS);

/** The index term of one lowercased word, or null for a stopword: the per-word half of the pipeline. */
export const termOfWord = (word: string): string | null => (stopwordSet.has(word) ? null : stem(word));

/** Index and query terms of `text`: the full pipeline. */
export function analyze(text: string): string[] {
  const out: string[] = [];
  for (const word of splitWords(text)) {
    const term = termOfWord(word);
    if (term !== null) out.push(term);
  }
  return out;
}

/** BEIR documents are indexed as title and text together, as Anserini's flat index does. */
export const documentText = (doc: { readonly title?: string; readonly text: string }): string => (doc.title ? `${doc.title} ${doc.text}` : doc.text);
