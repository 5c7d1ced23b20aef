/**
 * Reads what the package test needs from README.md at test time, so a stale README fails CI: the
 * packages its Install section tells users to install, and its TypeScript code blocks.
 */
import { readFileSync } from 'node:fs';

/** One ```ts block of the README and the `##`/`###` heading it sits under. */
export interface Snippet {
  /** File name for the block in the consumer project, e.g. `03-web-apis.ts`. */
  file: string;
  heading: string;
  code: string;
}

export function readReadme(path: string): string {
  return readFileSync(path, 'utf8');
}

/** The text of a `## heading` section, up to the next `## ` heading. */
export function section(readme: string, heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/**
 * Every package named by an `npm install` line of the Install section's sh blocks (flags and
 * comments dropped), in order, without duplicates.
 */
export function installPackages(readme: string): string[] {
  const packages = new Set<string>();
  for (const block of codeBlocks(section(readme, 'Install'), 'sh')) {
    for (const line of block.split('\n')) {
      const words = line.replace(/#.*/, '').trim().split(/\s+/);
      if (words[0] !== 'npm' || (words[1] !== 'install' && words[1] !== 'i')) continue;
      for (const word of words.slice(2)) if (!word.startsWith('-')) packages.add(word);
    }
  }
  if (packages.size === 0) throw new Error('the README\'s Install section names no package');
  return [...packages];
}

/** The README's ```ts blocks, each named after its heading. */
export function tsSnippets(readme: string): Snippet[] {
  const snippets: Snippet[] = [];
  let heading = '';
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const title = /^#{2,3} (.*)$/.exec(line);
    if (title) heading = title[1]!;
    if (line.trim() !== '```ts') continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`README: the ts block under "${heading}" is not closed`);
    const slug = heading.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    snippets.push({ file: `${String(snippets.length + 1).padStart(2, '0')}-${slug}.ts`, heading, code: lines.slice(i + 1, end).join('\n') + '\n' });
    i = end;
  }
  return snippets;
}

function codeBlocks(text: string, language: string): string[] {
  const blocks: string[] = [];
  const pattern = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```$', 'gm');
  for (const match of text.matchAll(pattern)) blocks.push(match[1]!);
  return blocks;
}
