import { ArgumentsHost, Catch, HttpException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';
import { STATUS_CODES } from 'node:http';

/**
 * One error body for every refusal over HTTP: `{statusCode, error, message}`, whatever threw it.
 * Nest's own exceptions already answer so (`error` the status's name, `message` a sentence or
 * the validation's `path: message` list); the routes that name their refusal (`{error: 'invalid
 * credentials'}`, `{error: 'rate_limited', message}`, an alert's `{ok: false, error:
 * 'not_found'}`) answered without `statusCode` and often without `message`. Their fields stay
 * as they are (clients read `error`); what is missing is filled: `statusCode` from the status,
 * `error` from the status's name, `message` from `error`. Errors that are not HttpExceptions go
 * to Nest's base filter (500, logged). Decision 0056.
 *
 * Owns the body's shape only; must not decide a status, log or count a refusal.
 */
@Catch(HttpException)
export class HttpErrorBodyFilter extends BaseExceptionFilter {
  override catch(exception: HttpException, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return super.catch(exception, host);
    const status = exception.getStatus();
    const response = host.switchToHttp().getResponse<Response>();
    response.status(status).json(errorBody(status, exception.getResponse()));
  }
}

/** The body for `status` from what the exception carries (a string or an object). */
export function errorBody(status: number, raw: string | object): Record<string, unknown> {
  const name = STATUS_CODES[status] ?? 'Error';
  const fields: Record<string, unknown> =
    typeof raw === 'string' ? { message: raw } : { ...(raw as Record<string, unknown>) };
  const error = typeof fields.error === 'string' ? fields.error : name;
  const message =
    typeof fields.message === 'string' || Array.isArray(fields.message) ? fields.message : error;
  return { ...fields, statusCode: status, error, message };
}
