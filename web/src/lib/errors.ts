/**
 * Turns a failed API call into a sentence for the person at the form, in the
 * console's language, placed at the field it concerns. The server's own
 * message (English, technical) is kept only as a detail in brackets.
 */
import { ApiError } from './api';

/** An i18n key with its values; kept as a key so a language switch re-translates it. */
export interface Message {
  key: string;
  values?: Record<string, string | number>;
}

export type FieldErrors<F extends string> = Partial<Record<F | 'form', Message>>;

/**
 * `known` maps "409:name" (status and field) or "404" (status alone) to an
 * i18n key for the cases a page knows how to explain; the server message is
 * passed as `{message}`.
 */
export function describeApiError<F extends string>(
  cause: unknown,
  fields: readonly F[],
  known: Record<string, string> = {},
): FieldErrors<F> {
  const at = (field: F | 'form', message: Message): FieldErrors<F> =>
    ({ [field]: message }) as Record<string, Message> as FieldErrors<F>;
  if (!(cause instanceof ApiError)) return at('form', { key: 'errors.generic', values: { message: String(cause) } });
  if (cause.kind === 'timeout') return at('form', { key: 'errors.timeout' });
  if (cause.isNetwork) return at('form', { key: 'errors.network' });
  // The console goes back to the login page with its own sentence.
  if (cause.status === 401) return {};
  if (cause.status === 403) return at('form', { key: 'errors.forbidden', values: { message: cause.message } });
  if (cause.status >= 500) return at('form', { key: 'errors.server', values: { status: cause.status } });

  const field = fieldOf(cause.field, fields);
  const values = { message: cause.message };
  const key = known[`${cause.status}:${field}`] ?? known[String(cause.status)];
  if (key) return at(field, { key, values });
  if (field !== 'form') return at(field, { key: 'errors.invalidField', values });
  return at('form', { key: 'errors.rejected', values });
}

/** Maps the server's `field` ("name", "zones.0", "body.at") onto one of the form's fields. */
export function fieldOf<F extends string>(field: string | undefined, fields: readonly F[]): F | 'form' {
  const name = field?.replace(/^(body)?[./]?/, '').split(/[./[]/)[0];
  return (fields as readonly string[]).includes(name ?? '') ? (name as F) : 'form';
}
