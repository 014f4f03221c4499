import { parseCliArgs, UsageError } from '../../lambdas/shared/cli';
import { ERASE_CLI, eraseRequest } from '../../tools/erase';

/** `npm run erase`'s command line, checked in-process (test/integration/erase-recipient.test.ts runs the command). */
const request = (...argv: string[]) => eraseRequest(parseCliArgs(argv, ERASE_CLI.options));

describe('npm run erase: what it is asked to erase', () => {
  it('takes a number in any spelling with its country code, 00 included, and the bare-digits choice', () => {
    // As Meta's recipient_id writes it: 12 digits, no leading 0.
    expect(request('--phone', '919876543210')).toMatchObject({ identifier: '+919876543210' });
    expect(request('--phone', '0091 98765-43210')).toEqual({
      call: 'erase_recipient',
      identifier: '+919876543210',
      reference: undefined,
      withBareDigits: false,
    });
    expect(request('--phone', '+91 98765 43210', '--with-bare-digits', '--reference', 'DSR-118')).toMatchObject({
      identifier: '+919876543210',
      reference: 'DSR-118',
      withBareDigits: true,
    });
    // A helpdesk's ticket number of seven digits or more is not the person's number.
    expect(request('--phone', '+919800000001', '--reference', 'ZD-4512345')).toMatchObject({ reference: 'ZD-4512345' });
    expect(request('--user-id', 'BR.1502576394655843')).toEqual({
      call: 'erase_recipient_user_id',
      identifier: 'BR.1502576394655843',
      reference: undefined,
    });
  });

  it.each<[string[], RegExp]>([
    [['--user-id', 'BR.1', '--phone', '+919800000001'], /either --phone or --user-id, not both/],
    [['--phone', 'abc'], /--phone abc is not a phone number: give it with its country code/],
    // Digits alone may lack the country code: 9876543299 would be read as +98...
    [['--phone', '9876543299'], /--phone 98\*{6}99 has neither \+ nor 00/],
    [['--phone', '07700 900123'], /has neither \+ nor 00/],
    [['--user-id', 'bogus'], /--user-id .*e\.g\. IN\.1648738043044942/],
    [[], /--phone or --user-id is required/],
    // erasure_log keeps the reference for good.
    [
      ['--phone', '+919800000001', '--reference', 'request from +91 98000 00001 (Ravi)'],
      /--reference is kept as written/,
    ],
    [['--phone', '+919800000001', '--reference', 'DSR 98000-00001'], /--reference is kept as written/],
    [['--phone', '+919800000001', '--reference', 'callback +44 7700 900123'], /--reference is kept as written/],
    [['--phone', '+919800000001', '--reference', 'was IN.1648738043044942'], /--reference is kept as written/],
    // Erasing by user id the number is not known: any seven digits in a row may be it.
    [['--user-id', 'IN.1648738043044942', '--reference', 'ZD-4512345'], /7 digits or more in a row/],
    [['--user-id', 'IN.1648738043044942', '--reference', 'call 98000 00001'], /7 digits or more in a row/],
    // A user id however written, a wamid (it carries the number), digits of another script.
    ...['IN 1648738043044942', 'user 1648738043044942', 'ZD_IN.1648738043044942', 'IN.1648738043044942_old'].map(
      (reference): [string[], RegExp] => [['--phone', '+919800000001', '--reference', reference], /kept as written/],
    ),
    [['--phone', '+919800000001', '--reference', 'wamid.HBgMOTE5ODAwMDAwMDAx'], /--reference is kept as written/],
    [['--phone', '+919800000001', '--reference', 'DSR ९८०००००००१'], /--reference is kept as written/],
    [['--phone', '+919800000001', '--phone', '+919800000002'], /--phone is given more than once/],
  ])('refuses %p', (argv, message) => {
    expect(() => request(...argv)).toThrow(UsageError);
    expect(() => request(...argv)).toThrow(message);
  });
});
