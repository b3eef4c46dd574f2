/**
 * Errors of the scheduling capability. Each names the input it concerns and
 * carries the HTTP status the routes answer with, so handlers stay thin.
 */
export class ScheduleInputError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    readonly field: string,
    message: string,
    /** Extra structured detail for the client (e.g. the list of conflicts). */
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ScheduleInputError';
  }
}

export const badInput = (field: string, message: string) => new ScheduleInputError(400, field, `${field}: ${message}`);
export const notFound = (field: string, message: string) => new ScheduleInputError(404, field, message);
