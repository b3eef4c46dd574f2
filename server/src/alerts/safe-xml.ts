/**
 * A safe reader for XML from the network (CAP alerts, and the RSS/Atom
 * indexes that link them): the size is checked before parsing, input must be
 * UTF-8, DOCTYPE and ENTITY declarations are refused outright (they are what
 * entity expansion — "billion laughs" — and external entities — XXE — need),
 * and only XML's five predefined entities and numeric character references
 * are decoded, by our own code. The result is a small element tree with
 * namespaces resolved; every problem is an `XmlDocumentError`.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export class XmlDocumentError extends Error {
  override readonly name = 'XmlDocumentError';
}

/** Reads one XML document of at most `maxBytes` bytes of UTF-8 into its root element. */
export function readXmlDocument(xml: string | Uint8Array, maxBytes: number): XmlElement {
  const text = decodeDocument(xml, maxBytes);
  refuseDeclarations(text);
  return parseXmlTree(text);
}

function decodeDocument(xml: unknown, maxBytes: number): string {
  let text: string;
  if (typeof xml === 'string') {
    // A UTF-8 encoding is never shorter than the string's UTF-16 length, so
    // the cheap check comes first and a huge string is never encoded.
    const bytes = xml.length > maxBytes ? xml.length : Buffer.byteLength(xml, 'utf8');
    if (bytes > maxBytes) throw tooLarge(bytes, maxBytes);
    text = xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml;
  } else if (xml instanceof Uint8Array) {
    if (xml.byteLength > maxBytes) throw tooLarge(xml.byteLength, maxBytes);
    if ((xml[0] === 0xfe && xml[1] === 0xff) || (xml[0] === 0xff && xml[1] === 0xfe)) {
      throw new XmlDocumentError('is UTF-16; feeds are read as UTF-8');
    }
    const declared = /^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']{0,40})["']/.exec(
      Buffer.from(xml.buffer, xml.byteOffset, Math.min(xml.byteLength, 200)).toString('latin1'),
    )?.[1];
    if (declared !== undefined && !/^(utf-?8|us-ascii|ascii)$/i.test(declared)) {
      throw new XmlDocumentError(`declares encoding ${show(declared)}; only UTF-8 is accepted`);
    }
    try {
      // fatal: a byte sequence that is not UTF-8 is refused rather than
      // silently turned into U+FFFD, which would garble Vietnamese text.
      text = new TextDecoder('utf-8', { fatal: true }).decode(xml);
    } catch {
      throw new XmlDocumentError('is not valid UTF-8');
    }
  } else {
    throw new XmlDocumentError('must be XML text or bytes');
  }
  // XML 1.0 forbids these characters anywhere; they would also reach speech synthesis.
  const control = firstNonXmlChar(text);
  if (control !== -1) {
    throw new XmlDocumentError(
      `contains the character U+${hex4(text.charCodeAt(control))} at line ${lineAt(text, control)}, which XML does not allow`,
    );
  }
  return text;
}

/** Index of the first C0 control (other than tab, LF, CR) or U+FFFE/U+FFFF, or -1. */
function firstNonXmlChar(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x9 && code !== 0xa && code !== 0xd) || code === 0xfffe || code === 0xffff) return i;
  }
  return -1;
}

function tooLarge(bytes: number, maxBytes: number): XmlDocumentError {
  return new XmlDocumentError(`is ${bytes} bytes, over the limit of ${maxBytes} bytes`);
}

function refuseDeclarations(text: string): void {
  const found = /<!\s*(DOCTYPE|ENTITY)/i.exec(text);
  if (!found) return;
  throw new XmlDocumentError(
    `has a ${found[1]!.toUpperCase()} declaration at line ${lineAt(text, found.index)}; ` +
      'CAP alerts need none, and DOCTYPE/ENTITY declarations are refused because they allow ' +
      'entity expansion ("billion laughs") and external entities (XXE)',
  );
}

/** An element with its namespace resolved; text and CDATA are kept in order as strings. */
export interface XmlElement {
  ns: string | null;
  local: string;
  qname: string;
  attrs: Map<string, string>;
  children: (XmlElement | string)[];
}

/** CAP nests five deep (alert/info/area/geocode/value), Atom three; extensions get room, hostile nesting does not. */
const MAX_DEPTH = 32;

const xmlParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  // Prefixes are resolved here against the xmlns declarations in scope:
  // removeNSPrefix would drop the declarations and with them the check.
  removeNSPrefix: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // No entity processing in the parser at all: decodeEntities below handles
  // the five predefined entities and character references, nothing else.
  processEntities: false,
  htmlEntities: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_DEPTH,
});

function parseXmlTree(text: string): XmlElement {
  // XMLParser alone accepts some documents that are not well-formed (an
  // unclosed tag at the end: a truncated download), so validate first.
  // XMLValidator is marked deprecated in favour of a separate package but
  // ships with fast-xml-parser 5 and does what is needed here.
  let valid: ReturnType<typeof XMLValidator.validate>;
  try {
    valid = XMLValidator.validate(text);
  } catch (error) {
    throw new XmlDocumentError(`is not well-formed XML: ${errorText(error)}`);
  }
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    // The validator reports elements left open at the end as a JSON list of their names.
    const open = openElements(msg);
    if (open !== null) throw new XmlDocumentError(`ends before ${clip(open)} is closed (truncated?)`);
    throw new XmlDocumentError(`is not well-formed XML: ${clip(msg)} (line ${line}, column ${col})`);
  }
  let entries: unknown;
  try {
    entries = xmlParser.parse(text);
  } catch (error) {
    throw new XmlDocumentError(`is not well-formed XML: ${errorText(error)}`);
  }
  const roots = toNodes(entries, new Map(), 0).filter((node) => typeof node !== 'string' || node.trim() !== '');
  if (roots.length === 0) throw new XmlDocumentError('has no root element');
  if (roots.length > 1 || typeof roots[0] === 'string') {
    throw new XmlDocumentError('must have exactly one root element and no text outside it');
  }
  return roots[0]!;
}

/** "alert > info > area" from the validator's "Invalid '["alert","info","area"]' found.", or null. */
function openElements(msg: string): string | null {
  const list = /^Invalid '(\[.*\])' found\.?$/s.exec(msg)?.[1];
  if (list === undefined) return null;
  try {
    const names: unknown = JSON.parse(list);
    return Array.isArray(names) ? names.map(String).join(' > ') : null;
  } catch {
    return null;
  }
}

const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';

/** Turns fast-xml-parser's preserveOrder output into XmlElement trees, resolving namespaces. */
function toNodes(entries: unknown, scope: ReadonlyMap<string, string | null>, depth: number): (XmlElement | string)[] {
  if (depth > MAX_DEPTH) throw new XmlDocumentError(`nests elements more than ${MAX_DEPTH} deep`);
  if (!Array.isArray(entries)) return [];
  const nodes: (XmlElement | string)[] = [];
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null) continue;
    for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
      if (key === ':@') continue;
      if (key === '#text') {
        nodes.push(decodeEntities(String(value)));
      } else if (key === '#cdata') {
        // CDATA is literal: its "&amp;" stays "&amp;".
        const parts = Array.isArray(value) ? value : [];
        nodes.push(parts.map((part: unknown) => String((part as Record<string, unknown>)['#text'] ?? '')).join(''));
      } else {
        nodes.push(toElement(key, value, (entry as Record<string, unknown>)[':@'], scope, depth));
      }
    }
  }
  return nodes;
}

function toElement(
  qname: string,
  content: unknown,
  rawAttrs: unknown,
  parentScope: ReadonlyMap<string, string | null>,
  depth: number,
): XmlElement {
  const attrs = new Map<string, string>();
  if (typeof rawAttrs === 'object' && rawAttrs !== null) {
    for (const [name, value] of Object.entries(rawAttrs as Record<string, unknown>)) {
      attrs.set(name, decodeEntities(String(value)));
    }
  }
  let scope = parentScope;
  for (const [name, value] of attrs) {
    if (name !== 'xmlns' && !name.startsWith('xmlns:')) continue;
    if (scope === parentScope) scope = new Map(parentScope);
    (scope as Map<string, string | null>).set(name === 'xmlns' ? '' : name.slice(6), value === '' ? null : value);
  }
  const colon = qname.indexOf(':');
  const prefix = colon === -1 ? '' : qname.slice(0, colon);
  const local = colon === -1 ? qname : qname.slice(colon + 1);
  let ns: string | null;
  if (prefix === 'xml') ns = XML_NAMESPACE;
  else if (prefix === '') ns = scope.get('') ?? null;
  else {
    const bound = scope.get(prefix);
    if (bound === undefined || bound === null) {
      throw new XmlDocumentError(`element <${clip(qname)}> uses the namespace prefix ${show(prefix)}, never declared`);
    }
    ns = bound;
  }
  return { ns, local, qname, attrs, children: toNodes(content, scope, depth + 1) };
}

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Decodes XML's five predefined entities and numeric character references in
 * one pass (so "&amp;lt;" becomes "&lt;", not "<"). Any other entity is an
 * error: with no DOCTYPE nothing else can be declared.
 */
export function decodeEntities(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]{0,12});?/g, (match, name: string) => {
    if (!match.endsWith(';')) throw new XmlDocumentError(`has a bare "&" (${show(match)}); write it as &amp;`);
    if (Object.hasOwn(PREDEFINED_ENTITIES, name)) return PREDEFINED_ENTITIES[name]!;
    const numeric = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(name);
    if (numeric) {
      const code = numeric[1] !== undefined ? parseInt(numeric[1], 16) : parseInt(numeric[2]!, 10);
      if (!isXmlChar(code)) {
        throw new XmlDocumentError(`has the character reference ${show(match)}, which is not an XML character`);
      }
      return String.fromCodePoint(code);
    }
    throw new XmlDocumentError(
      `uses the entity ${show(match)}; only &lt; &gt; &amp; &quot; &apos; and &#…; are allowed`,
    );
  });
}

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

// ---------------------------------------------------------------------------
// Message helpers: hostile values can be a megabyte long, messages stay short.

export function clip(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function show(value: string): string {
  return JSON.stringify(clip(value, 60));
}

function errorText(error: unknown): string {
  return clip(error instanceof Error ? error.message : String(error), 200);
}

function hex4(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, '0');
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
