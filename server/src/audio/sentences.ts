/**
 * Splits notice text into speakable pieces for sentence-by-sentence rendering.
 * Pure; lives in audio/ for now because the pipeline owns it — it could move to
 * tts/ beside the normaliser.
 */

// A sentence ends at . ! ? … ; or a line break. The mark must be followed by
// whitespace or the end, so "7.30", "1.000.000" and "v.v" stay whole. Closing
// quotes and brackets stay with their sentence.
const SPEAKABLE = /[\p{L}\p{N}]/u;

function sentencesOf(text: string): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    // Scan for the first boundary: punctuation followed by whitespace/end, or a newline.
    const m = /[.!?…;]+["'”’)\]]*(?=\s|$)|\n/u.exec(rest);
    const end = m ? m.index + m[0].length : rest.length;
    out.push(rest.slice(0, end));
    rest = rest.slice(end);
  }
  return out;
}

/** Packs `parts` (each already ≤ max) greedily into pieces of at most `max` characters. */
function pack(parts: string[], max: number, joiner: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const part of parts) {
    const candidate = current ? `${current}${joiner}${part}` : part;
    if (current && candidate.length > max) {
      out.push(current);
      current = part;
    } else {
      current = candidate;
    }
  }
  if (current) out.push(current);
  return out;
}

function splitLong(sentence: string, max: number): string[] {
  if (sentence.length <= max) return [sentence];
  // Clauses keep their comma so the engine still pauses there.
  const clauses = sentence.split(/(?<=,)\s+/u);
  if (clauses.length > 1) {
    return pack(
      clauses.flatMap((c) => splitLong(c, max)),
      max,
      ' ',
    );
  }
  const words = sentence.split(/\s+/u).flatMap((w) => {
    const chunks: string[] = [];
    for (let i = 0; i < w.length; i += max) chunks.push(w.slice(i, i + max));
    return chunks;
  });
  return pack(words, max, ' ');
}

/**
 * Sentences of `text`, each at most `maxChars` long: split at . ! ? … ; and line
 * breaks, then (for an over-long sentence) at commas, then at spaces. Pieces with
 * nothing to say (only punctuation or spaces) are dropped.
 */
export function splitSentences(text: string, maxChars = 400): string[] {
  if (!Number.isInteger(maxChars) || maxChars < 1)
    throw new Error(`maxChars must be a positive integer, got ${maxChars}`);
  return sentencesOf(text.replace(/\r\n?/g, '\n'))
    .map((s) => s.replace(/\s+/gu, ' ').trim())
    .filter((s) => SPEAKABLE.test(s))
    .flatMap((s) => splitLong(s, maxChars));
}
