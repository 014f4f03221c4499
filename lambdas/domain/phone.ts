/** Phone numbers are stored as `+digits`, whatever punctuation the provider used. */
export function normalizePhone(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const digits = String(value).replace(/\D/g, '');
  if (digits.length === 0 || digits.length > 20) return undefined;
  return `+${digits}`;
}

/** For logs: keeps the country code's first digits and the last two, e.g. `+91********10`. */
export function maskPhone(phone: string | undefined): string | undefined {
  if (!phone) return phone;
  const digits = phone.replace(/\D/g, '');
  if (digits.length <= 4) return `+${'*'.repeat(digits.length)}`;
  return `+${digits.slice(0, 2)}${'*'.repeat(digits.length - 4)}${digits.slice(-2)}`;
}
