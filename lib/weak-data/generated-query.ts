// Post-processing of one generated weak query, as in the SPTAR authors' pipeline:
//   1. keep the first line (the template's " \n " separator means a newline ends the query);
//   2. cut at a template marker ("Document:" / "Relevant Query:") the model may echo on the same line;
//   3. split into sentence segments and drop a segment that immediately repeats the previous one (greedy
//      decoding of small models loops: "Does X cause Y? Does X cause Y?");
//   4. collapse whitespace and trim. An empty result is a failure with a reason, recorded for the document.

type GeneratedQueryResult = { readonly ok: true; readonly query: string } | { readonly ok: false; readonly reason: string };

const TEMPLATE_MARKER = /\b(?:Relevant Query|Document)\s*:/;
/** A segment ends after ., ? or ! followed by whitespace. */
const SEGMENT_BREAK = /(?<=[.?!])\s+/;

const normalise = (s: string): string => s.replace(/\s+/g, ' ').trim();
const sameSegment = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export function postProcessGeneratedQuery(raw: string): GeneratedQueryResult {
  const firstLine = raw.split(/\r?\n/, 1)[0] ?? '';
  const marker = TEMPLATE_MARKER.exec(firstLine);
  const line = marker ? firstLine.slice(0, marker.index) : firstLine;
  const segments: string[] = [];
  for (const piece of line.split(SEGMENT_BREAK)) {
    const segment = normalise(piece);
    if (segment === '') continue;
    const previous = segments[segments.length - 1];
    if (previous !== undefined && sameSegment(previous, segment)) continue;
    segments.push(segment);
  }
  const query = segments.join(' ');
  if (query !== '') return { ok: true, query };
  if (raw.trim() === '') return { ok: false, reason: 'the model generated only whitespace' };
  if (normalise(firstLine) === '') return { ok: false, reason: 'the first generated line is empty (output began with a newline)' };
  return { ok: false, reason: 'the first line holds only template text (e.g. "Document:")' };
}
