// The start of a document as the report shows it next to a weak query: title and text, cut at a word boundary.

export function documentPreview(doc: { readonly title?: string; readonly text: string }, maxChars = 300): string {
  const full = [doc.title ?? '', doc.text].map((s) => s.replace(/\s+/g, ' ').trim()).filter((s) => s !== '').join('. ');
  if (full.length <= maxChars) return full;
  const cut = full.slice(0, maxChars);
  const space = cut.lastIndexOf(' ');
  // Cut at the last space unless that would drop most of the text (one very long token).
  return `${space > maxChars / 2 ? cut.slice(0, space) : cut}…`;
}
