import * as z from 'zod';

/**
 * Values as SQL functions return them: node-postgres gives bigint and numeric as strings and timestamptz as Date,
 * PostgREST gives numbers and ISO strings. These schemas accept either and yield numbers and ISO strings.
 */
export const sqlCount = z.coerce.number().int();
export const sqlFigure = z.union([z.null(), z.coerce.number()]);
export const sqlTime = z.union([z.string(), z.date()]).transform((v) => new Date(v).toISOString());
