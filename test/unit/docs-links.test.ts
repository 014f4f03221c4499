import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Every relative link in README.md and docs/*.md resolves: the file exists and, with a `#fragment`, the target holds a
 * heading whose GitHub anchor is that fragment (or an explicit `<a id>`). External links are not fetched.
 */
const root = join(__dirname, '..', '..');
const docs = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The text outside fenced code blocks, with inline code spans kept (headings use them) but never read as links. */
function prose(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced) out.push(line);
  }
  return out;
}

/** GitHub's heading anchor: lower case, markup and punctuation dropped, spaces to hyphens, repeats numbered. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/[`*]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const line of prose(readFileSync(join(root, file), 'utf8'))) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const base = slug(heading[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      found.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) found.add(m[1]!);
  }
  return found;
}

interface Link {
  from: string;
  line: number;
  target: string;
}

function links(file: string): Link[] {
  const out: Link[] = [];
  const text = readFileSync(join(root, file), 'utf8').split('\n');
  let fenced = false;
  text.forEach((raw, i) => {
    if (/^\s*(```|~~~)/.test(raw)) fenced = !fenced;
    if (fenced) return;
    const line = raw.replace(/`[^`]*`/g, '');
    for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...
      out.push({ from: file, line: i + 1, target });
    }
  });
  return out;
}

function problem(link: Link): string | undefined {
  const [pathPart = '', fragment] = link.target.split('#', 2);
  const file = pathPart === '' ? link.from : relative(root, resolve(root, dirname(link.from), decodeURI(pathPart)));
  if (!existsSync(join(root, file))) return `${file} does not exist`;
  if (fragment === undefined || fragment === '') return undefined;
  if (!file.endsWith('.md') || statSync(join(root, file)).isDirectory())
    return `#${fragment} on a file that is not Markdown`;
  return anchors(file).has(decodeURIComponent(fragment)) ? undefined : `${file} has no heading #${fragment}`;
}

describe('documentation links', () => {
  it('computes anchors as GitHub does', () => {
    expect(slug('`npm start` stopped while the database is down')).toBe('npm-start-stopped-while-the-database-is-down');
    expect(slug('4. Decide who is told, then bootstrap and deploy')).toBe(
      '4-decide-who-is-told-then-bootstrap-and-deploy',
    );
    expect(slug('The 5-second deadline')).toBe('the-5-second-deadline');
    expect(slug('Design: pipeline, payload formats')).toBe('design-pipeline-payload-formats');
  });

  it('finds the links it checks', () => {
    expect(links('README.md').length).toBeGreaterThan(10);
  });

  it.each(docs)('every relative link in %s resolves', (file) => {
    const broken = links(file)
      .map((link) => ({ link, why: problem(link) }))
      .filter((b) => b.why !== undefined)
      .map((b) => `${b.link.from}:${b.link.line} (${b.link.target}): ${b.why}`);
    expect(broken).toEqual([]);
  });

  // A path the docs name in code (`lambdas/store/...ts`) must exist: files move, and a stale path misleads a newcomer.
  it.each(docs)('every repository path %s names in code exists', (file) => {
    const missing = readFileSync(join(root, file), 'utf8')
      .split('\n')
      .flatMap((line, i) =>
        [
          ...line.matchAll(
            /`((?:lambdas|lib|local|tools|scripts|bench|db|testkit|test|supabase|bin|docs|\.ci)\/[^`\s*<>{}|]+)`/g,
          ),
        ].map((m) => ({ line: i + 1, path: m[1]! })),
      )
      .map(({ line, path }) => ({ line, path: path.replace(/[/:,.]+$/, '').split(/[#:]/)[0]! }))
      .filter(({ path }) => !existsSync(join(root, path)))
      .map(({ line, path }) => `${file}:${line}: ${path}`);
    expect(missing).toEqual([]);
  });
});
