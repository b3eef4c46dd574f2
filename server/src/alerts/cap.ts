/**
 * CAP 1.2 (OASIS Common Alerting Protocol, v1.2) alerts read from untrusted
 * feeds into typed values.
 *
 * The document is read by safe-xml.ts (size limit before parsing, no DOCTYPE
 * or entity declarations, no entities beyond XML's predefined ones); then the
 * rules of CAP 1.2 (OASIS Standard, 1 July 2010) are checked: the namespace,
 * required elements, the value lists of status, msgType, scope, category,
 * responseType, urgency, severity and certainty, the dateTime form with a
 * time zone, "sender,identifier,sent" references, polygons of at least four
 * closed "lat,lon" points and "lat,lon radius" circles in WGS 84. Element
 * order is not enforced, and elements the standard does not define
 * (extensions, other namespaces) are ignored.
 *
 * Every problem is a `CapError` whose `path` names the element
 * (`alert.info[0].area[1].polygon[0]`), so an operator can see what a feed got
 * wrong; a caller never sees any other error type from `parseCapAlert`.
 */
import { XmlDocumentError, clip, readXmlDocument, show, type XmlElement } from './safe-xml';

export const CAP_1_2_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';
/** Older CAP namespaces, named in the error so an operator knows the feed is on an old version. */
const OLDER_CAP_NAMESPACES: Readonly<Record<string, string>> = {
  'urn:oasis:names:tc:emergency:cap:1.1': 'CAP 1.1',
  'http://www.incident.com/cap/1.0': 'CAP 1.0',
};

/** Real alerts are a few kilobytes; 1 MB leaves room for many areas and long polygons. */
export const DEFAULT_MAX_CAP_BYTES = 1024 * 1024;

export const CAP_STATUSES = ['Actual', 'Exercise', 'System', 'Test', 'Draft'] as const;
export const CAP_MSG_TYPES = ['Alert', 'Update', 'Cancel', 'Ack', 'Error'] as const;
export const CAP_SCOPES = ['Public', 'Restricted', 'Private'] as const;
export const CAP_CATEGORIES = [
  'Geo',
  'Met',
  'Safety',
  'Security',
  'Rescue',
  'Fire',
  'Health',
  'Env',
  'Transport',
  'Infra',
  'CBRNE',
  'Other',
] as const;
export const CAP_RESPONSE_TYPES = [
  'Shelter',
  'Evacuate',
  'Prepare',
  'Execute',
  'Avoid',
  'Monitor',
  'Assess',
  'AllClear',
  'None',
] as const;
export const CAP_URGENCIES = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'] as const;
export const CAP_SEVERITIES = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'] as const;
export const CAP_CERTAINTIES = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'] as const;

export type CapStatus = (typeof CAP_STATUSES)[number];
export type CapMsgType = (typeof CAP_MSG_TYPES)[number];
export type CapScope = (typeof CAP_SCOPES)[number];
export type CapCategory = (typeof CAP_CATEGORIES)[number];
export type CapResponseType = (typeof CAP_RESPONSE_TYPES)[number];
export type CapUrgency = (typeof CAP_URGENCIES)[number];
export type CapSeverity = (typeof CAP_SEVERITIES)[number];
export type CapCertainty = (typeof CAP_CERTAINTIES)[number];

/** A WGS 84 point in CAP's order: latitude first, in degrees. */
export type LatLon = readonly [lat: number, lon: number];

export interface CapCircle {
  lat: number;
  lon: number;
  radiusKm: number;
}

/** eventCode, parameter and geocode share this shape. */
export interface CapNamedValue {
  valueName: string;
  value: string;
}

/** An earlier message this one points back to (Update, Cancel, Ack, Error). */
export interface CapReference {
  sender: string;
  identifier: string;
  sent: Date;
}

export interface CapArea {
  areaDesc: string;
  /** Each polygon is closed: its last point equals its first. */
  polygons: LatLon[][];
  circles: CapCircle[];
  geocodes: CapNamedValue[];
  /** Feet above mean sea level, as CAP defines them. */
  altitude: number | null;
  ceiling: number | null;
}

export interface CapResource {
  resourceDesc: string;
  mimeType: string;
  size: number | null;
  uri: string | null;
  digest: string | null;
}

export interface CapInfo {
  language: string;
  categories: CapCategory[];
  event: string;
  responseTypes: CapResponseType[];
  urgency: CapUrgency;
  severity: CapSeverity;
  certainty: CapCertainty;
  audience: string | null;
  eventCodes: CapNamedValue[];
  effective: Date | null;
  onset: Date | null;
  expires: Date | null;
  senderName: string | null;
  headline: string | null;
  description: string | null;
  instruction: string | null;
  web: string | null;
  contact: string | null;
  parameters: CapNamedValue[];
  resources: CapResource[];
  areas: CapArea[];
}

export interface CapAlert {
  identifier: string;
  sender: string;
  sent: Date;
  status: CapStatus;
  msgType: CapMsgType;
  source: string | null;
  scope: CapScope;
  restriction: string | null;
  addresses: string[];
  codes: string[];
  note: string | null;
  references: CapReference[];
  incidents: string[];
  infos: CapInfo[];
}

export interface ParseCapOptions {
  /** Largest document accepted, in bytes of UTF-8; default 1 MB. */
  maxBytes?: number;
}

/** Why an alert was refused: `path` names the element, the message says what is wrong with it. */
export class CapError extends Error {
  override readonly name = 'CapError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/**
 * Parses and checks one CAP 1.2 alert. Throws `CapError` (and nothing else)
 * when the document is too large, not well-formed, declares a DOCTYPE or
 * entities, is not CAP 1.2, or breaks one of CAP 1.2's rules.
 */
export function parseCapAlert(xml: string | Buffer, options: ParseCapOptions = {}): CapAlert {
  let root: XmlElement;
  try {
    root = readXmlDocument(xml, options.maxBytes ?? DEFAULT_MAX_CAP_BYTES);
  } catch (error) {
    if (error instanceof XmlDocumentError) throw new CapError(DOCUMENT, error.message);
    throw error;
  }
  return readAlert(root);
}

/** The path of problems with the document as a whole: size, encoding, XML syntax, root element. */
const DOCUMENT = 'document';

// ---------------------------------------------------------------------------
// CAP level: elements, values and their rules

/** One CAP element and its path, with accessors for its CAP children. */
class CapNode {
  constructor(
    readonly element: XmlElement,
    readonly path: string,
  ) {}

  /** The CAP children called `name`, each with its indexed path. */
  all(name: string): CapNode[] {
    const found = this.element.children.filter(
      (child): child is XmlElement =>
        typeof child !== 'string' && child.ns === CAP_1_2_NAMESPACE && child.local === name,
    );
    return found.map((child, i) => new CapNode(child, `${this.path}.${name}[${i}]`));
  }

  /** The one child called `name`, or null; a second one is an error. */
  optional(name: string): CapNode | null {
    const found = this.all(name);
    if (found.length > 1) {
      throw new CapError(`${this.path}.${name}`, `appears ${found.length} times; CAP 1.2 allows it once`);
    }
    return found[0] ? new CapNode(found[0].element, `${this.path}.${name}`) : null;
  }

  optionalText(name: string): string | null {
    const node = this.optional(name);
    if (!node) return null;
    const value = node.text();
    return value === '' ? null : value;
  }

  requiredText(name: string): string {
    const node = this.optional(name);
    if (!node) throw new CapError(`${this.path}.${name}`, 'is missing; CAP 1.2 requires it');
    const value = node.text();
    if (value === '') throw new CapError(node.path, 'is empty; CAP 1.2 requires a value');
    return value;
  }

  /** Text content, trimmed at both ends; a child element inside is an error. */
  text(): string {
    let text = '';
    for (const child of this.element.children) {
      if (typeof child !== 'string') {
        throw new CapError(this.path, `must hold text only, but contains <${clip(child.qname)}>`);
      }
      text += child;
    }
    return text.trim();
  }
}

function readAlert(root: XmlElement): CapAlert {
  if (root.local !== 'alert') {
    throw new CapError(DOCUMENT, `root element is <${clip(root.qname)}>; a CAP message has <alert>`);
  }
  if (root.ns !== CAP_1_2_NAMESPACE) {
    const older = root.ns === null ? undefined : OLDER_CAP_NAMESPACES[root.ns];
    const reason =
      root.ns === null
        ? `has no namespace; CAP 1.2 alerts are in ${CAP_1_2_NAMESPACE}`
        : older !== undefined && Object.hasOwn(OLDER_CAP_NAMESPACES, root.ns)
          ? `is ${older} (namespace ${root.ns}); only CAP 1.2 (${CAP_1_2_NAMESPACE}) is accepted`
          : `is in the namespace ${show(root.ns)}; CAP 1.2 alerts are in ${CAP_1_2_NAMESPACE}`;
    throw new CapError('alert', reason);
  }
  const alert = new CapNode(root, 'alert');
  const identifier = readIdentifierLike(alert, 'identifier');
  const sender = readIdentifierLike(alert, 'sender');
  const sent = parseCapDateTime(alert.requiredText('sent'), 'alert.sent');
  const status = readEnum(alert, 'status', CAP_STATUSES);
  const msgType = readEnum(alert, 'msgType', CAP_MSG_TYPES);
  const scope = readEnum(alert, 'scope', CAP_SCOPES);
  const addresses = splitQuotedList(alert.optionalText('addresses') ?? '', 'alert.addresses');
  if (scope === 'Private' && addresses.length === 0) {
    throw new CapError('alert.addresses', 'is required when scope is Private');
  }
  const referencesText = alert.optionalText('references');
  const references = referencesText === null ? [] : parseReferences(referencesText, 'alert.references');
  if (msgType !== 'Alert' && references.length === 0) {
    throw new CapError('alert.references', `is required for msgType ${msgType}: it names the earlier message`);
  }
  return {
    identifier,
    sender,
    sent,
    status,
    msgType,
    source: alert.optionalText('source'),
    scope,
    restriction: alert.optionalText('restriction'),
    addresses,
    codes: alert
      .all('code')
      .map((node) => node.text())
      .filter((code) => code !== ''),
    note: alert.optionalText('note'),
    references,
    incidents: splitQuotedList(alert.optionalText('incidents') ?? '', 'alert.incidents'),
    infos: alert.all('info').map(readInfo),
  };
}

/** identifier and sender: CAP forbids spaces, commas and the restricted characters < and &. */
function readIdentifierLike(alert: CapNode, name: 'identifier' | 'sender'): string {
  const value = alert.requiredText(name);
  if (/[\s,<&]/.test(value)) {
    throw new CapError(`alert.${name}`, `${show(value)} contains a space, comma, "<" or "&", which CAP 1.2 forbids`);
  }
  return value;
}

function readInfo(info: CapNode): CapInfo {
  const language = info.optionalText('language') ?? 'en-US';
  if (!/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(language)) {
    throw new CapError(`${info.path}.language`, `${show(language)} is not a language tag such as vi-VN`);
  }
  const categoryNodes = info.all('category');
  if (categoryNodes.length === 0) {
    throw new CapError(`${info.path}.category`, 'is missing; CAP 1.2 requires at least one');
  }
  return {
    language,
    categories: categoryNodes.map((node) => enumValue(node.text(), node.path, 'category', CAP_CATEGORIES)),
    event: info.requiredText('event'),
    responseTypes: info
      .all('responseType')
      .map((node) => enumValue(node.text(), node.path, 'responseType', CAP_RESPONSE_TYPES)),
    urgency: readEnum(info, 'urgency', CAP_URGENCIES),
    severity: readEnum(info, 'severity', CAP_SEVERITIES),
    certainty: readEnum(info, 'certainty', CAP_CERTAINTIES),
    audience: info.optionalText('audience'),
    eventCodes: info.all('eventCode').map((node) => readNamedValue(node, false)),
    effective: optionalDate(info, 'effective'),
    onset: optionalDate(info, 'onset'),
    expires: optionalDate(info, 'expires'),
    senderName: info.optionalText('senderName'),
    headline: info.optionalText('headline'),
    description: info.optionalText('description'),
    instruction: info.optionalText('instruction'),
    web: readUri(info, 'web'),
    contact: info.optionalText('contact'),
    parameters: info.all('parameter').map((node) => readNamedValue(node, false)),
    resources: info.all('resource').map(readResource),
    areas: info.all('area').map(readArea),
  };
}

function readResource(resource: CapNode): CapResource {
  const sizeText = resource.optionalText('size');
  if (sizeText !== null && !/^[0-9]{1,15}$/.test(sizeText)) {
    throw new CapError(`${resource.path}.size`, `${show(sizeText)} is not a whole number of bytes`);
  }
  return {
    resourceDesc: resource.requiredText('resourceDesc'),
    mimeType: resource.requiredText('mimeType'),
    size: sizeText === null ? null : Number(sizeText),
    uri: readUri(resource, 'uri'),
    digest: resource.optionalText('digest'),
  };
}

function readArea(area: CapNode): CapArea {
  const altitude = optionalDecimal(area, 'altitude');
  const ceiling = optionalDecimal(area, 'ceiling');
  if (ceiling !== null && altitude === null) {
    throw new CapError(`${area.path}.ceiling`, 'is given without altitude; CAP 1.2 uses ceiling only with altitude');
  }
  return {
    areaDesc: area.requiredText('areaDesc'),
    polygons: area.all('polygon').map((node) => parsePolygon(node.text(), node.path)),
    circles: area.all('circle').map((node) => parseCircle(node.text(), node.path)),
    geocodes: area.all('geocode').map((node) => readNamedValue(node, true)),
    altitude,
    ceiling,
  };
}

function readNamedValue(node: CapNode, valueRequired: boolean): CapNamedValue {
  const valueName = node.requiredText('valueName');
  // A parameter's value may be empty; a geocode's may not, or it would match every unlabelled zone.
  const value = valueRequired ? node.requiredText('value') : node.optional('value')?.text();
  if (value === undefined) throw new CapError(`${node.path}.value`, 'is missing; CAP 1.2 requires it');
  return { valueName, value };
}

function readEnum<T extends string>(node: CapNode, name: string, allowed: readonly T[]): T {
  return enumValue(node.requiredText(name), `${node.path}.${name}`, name, allowed);
}

function enumValue<T extends string>(value: string, path: string, what: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new CapError(path, `${show(value)} is not a CAP 1.2 ${what}; expected one of ${allowed.join(', ')}`);
}

function optionalDate(node: CapNode, name: string): Date | null {
  const text = node.optionalText(name);
  return text === null ? null : parseCapDateTime(text, `${node.path}.${name}`);
}

function optionalDecimal(node: CapNode, name: string): number | null {
  const text = node.optionalText(name);
  return text === null ? null : parseDecimal(text, `${node.path}.${name}`, name);
}

function readUri(node: CapNode, name: string): string | null {
  const text = node.optionalText(name);
  if (text === null) return null;
  // CAP asks for a full absolute URI; URL.canParse without a base accepts only absolute ones.
  if (!URL.canParse(text)) throw new CapError(`${node.path}.${name}`, `${show(text)} is not an absolute URI`);
  return text;
}

// ---------------------------------------------------------------------------
// Value formats

const CAP_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/**
 * CAP's dateTime: "2026-10-12T07:30:00+07:00", always with a time zone (a
 * time without one would be read in the server's zone, which is a guess).
 * CAP 1.2 says UTC is written "-00:00" and "Z" must not be used; "Z" is
 * accepted all the same, since it is just as unambiguous and refusing a
 * flood warning over it would help nobody.
 */
export function parseCapDateTime(text: string, path: string): Date {
  const m = CAP_DATE_TIME.exec(text);
  if (!m) {
    throw new CapError(
      path,
      `${show(text)} is not a CAP dateTime such as 2026-10-12T07:30:00+07:00 (with a time zone)`,
    );
  }
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offsetHours = m[7] ? 0 : Number(m[9]);
  const offsetMinutes = m[7] ? 0 : Number(m[10]);
  const utcMs = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(utcMs);
  const realDate =
    check.getUTCFullYear() === year &&
    check.getUTCMonth() === month - 1 &&
    check.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60;
  if (!realDate || offsetHours > 14 || offsetMinutes >= 60) {
    throw new CapError(path, `${show(text)} is not a real date and time`);
  }
  const sign = m[8] === '-' ? -1 : 1;
  return new Date(utcMs - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
}

/** "sender,identifier,sent" triplets separated by whitespace. */
function parseReferences(text: string, path: string): CapReference[] {
  return text.split(/\s+/).map((triplet, i) => {
    const parts = triplet.split(',');
    if (parts.length !== 3 || parts[0] === '' || parts[1] === '') {
      throw new CapError(path, `reference ${i + 1} ${show(triplet)} is not "sender,identifier,sent"`);
    }
    return {
      sender: parts[0]!,
      identifier: parts[1]!,
      sent: parseCapDateTime(parts[2]!, `${path} (reference ${i + 1})`),
    };
  });
}

/** addresses and incidents: space-separated, with "double quotes" around an item that has spaces. */
function splitQuotedList(text: string, path: string): string[] {
  const items: string[] = [];
  const token = /"([^"]*)"|([^\s"]+)/g;
  let end = 0;
  for (let m = token.exec(text); m !== null; m = token.exec(text)) {
    if (text.slice(end, m.index).trim() !== '') break;
    items.push(m[1] ?? m[2]!);
    end = token.lastIndex;
  }
  if (text.slice(end).trim() !== '') throw new CapError(path, 'has an unbalanced double quote');
  return items.filter((item) => item !== '');
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

function parseDecimal(text: string, path: string, what: string): number {
  // Number() alone would accept "0x1F", "1e3", "Infinity" and "": CAP means plain decimals.
  if (!DECIMAL.test(text)) throw new CapError(path, `${show(text)} is not a decimal ${what}`);
  return Number(text);
}

function parsePoint(text: string, path: string, position: string): LatLon {
  const parts = text.split(',');
  if (parts.length !== 2 || !DECIMAL.test(parts[0]!) || !DECIMAL.test(parts[1]!)) {
    throw new CapError(path, `${position} ${show(text)} is not "lat,lon" in decimal degrees`);
  }
  const lat = Number(parts[0]);
  const lon = Number(parts[1]);
  if (lat < -90 || lat > 90) throw new CapError(path, `${position} has latitude ${lat}, outside -90..90`);
  if (lon < -180 || lon > 180) throw new CapError(path, `${position} has longitude ${lon}, outside -180..180`);
  return [lat, lon];
}

/** At least four "lat,lon" pairs separated by whitespace, the last equal to the first. */
export function parsePolygon(text: string, path: string): LatLon[] {
  const pairs = text.trim() === '' ? [] : text.trim().split(/\s+/);
  if (pairs.length < 4) {
    throw new CapError(
      path,
      `has ${pairs.length} points; a CAP polygon needs at least 4, the last repeating the first`,
    );
  }
  const points = pairs.map((pair, i) => parsePoint(pair, path, `point ${i + 1}`));
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (first[0] !== last[0] || first[1] !== last[1]) {
    throw new CapError(
      path,
      `is not closed: the last point (${last.join(',')}) differs from the first (${first.join(',')})`,
    );
  }
  return points;
}

/** "lat,lon radius" with the radius in kilometres. */
export function parseCircle(text: string, path: string): CapCircle {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 2) throw new CapError(path, `${show(text)} is not "lat,lon radius_km"`);
  const [lat, lon] = parsePoint(parts[0]!, path, 'centre');
  const radiusKm = parseDecimal(parts[1]!, path, 'radius in km');
  if (radiusKm < 0) throw new CapError(path, `has a negative radius ${radiusKm}`);
  return { lat, lon, radiusKm };
}
