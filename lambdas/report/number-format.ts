/** Figures as people read them: the text report, the HTML report and the daily summary share these. */

/** A count with thousands separators: 12,345. */
export const formatCount = (value: number) => value.toLocaleString('en-US');

/** A percentage to one decimal, or n/a when there is nothing to divide by: 97.5 %. */
export const formatPercent = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(1)} %`);

/** A measure with its unit, or n/a: 4.2 s. */
export const formatMeasure = (value: number | null, unit: string, digits = 1) =>
  value === null ? 'n/a' : `${value.toFixed(digits)} ${unit}`;

/** A count of a unit, singular or plural: 1 minute, 10 minutes. */
export const formatQuantity = (count: number, unit: string) => `${formatCount(count)} ${unit}${count === 1 ? '' : 's'}`;
