/**
 * The README read as the package test reads it: the Install section's packages and the
 * TypeScript blocks (pure functions, table tests), and the repository files it names.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { installPackages, readReadme, tsSnippets } from './readme.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const fence = '```';

test('installPackages: every package of the Install section\'s npm install lines, flags and comments dropped', () => {
  const cases: Array<[string, string[]]> = [
    ['npm install authflow express@5   # Express', ['authflow', 'express@5']],
    ['npm install authflow koa@3\nnpm install --save-dev typescript@5 @types/node@20', ['authflow', 'koa@3', 'typescript@5', '@types/node@20']],
    ['npm i authflow -E ioredis@6\nnpm run build', ['authflow', 'ioredis@6']],
    ['npm install authflow express@5\nnpm install authflow koa@3', ['authflow', 'express@5', 'koa@3']],
  ];
  for (const [block, expected] of cases) {
    const readme = `# x\n\n## Install\n\n${fence}sh\n${block}\n${fence}\n\n## Next\n\n${fence}sh\nnpm install other\n${fence}\n`;
    assert.deepEqual(installPackages(readme), expected, block);
  }
  assert.throws(() => installPackages('# x\n\n## Usage\n'), /no "## Install" section/);
  assert.throws(() => installPackages(`# x\n\n## Install\n\n${fence}sh\nnpm ci\n${fence}\n`), /names no package/);
});

test('tsSnippets: each ts block named after its heading, other languages left out', () => {
  const readme = [
    '## Web apps (Express)', `${fence}ts`, 'const a = 1;', fence,
    '### `auth()` options', `${fence}sh`, 'npm start', fence,
    '## The core: `ConfidentialClient`', `${fence}ts`, 'const b = 2;', 'const c = 3;', fence,
  ].join('\n');
  assert.deepEqual(tsSnippets(readme), [
    { file: '01-web-apps-express.ts', heading: 'Web apps (Express)', code: 'const a = 1;\n' },
    { file: '02-the-core-confidentialclient.ts', heading: 'The core: `ConfidentialClient`', code: 'const b = 2;\nconst c = 3;\n' },
  ]);
  assert.throws(() => tsSnippets(`## A\n${fence}ts\nconst open = 1;\n`), /not closed/);
});

test('the README names only files the repository has, and no DESIGN file', () => {
  const readme = readReadme(join(repo, 'README.md'));
  assert.doesNotMatch(readme, /\bDESIGN\b/, 'DESIGN.md is not part of the repository');
  const generated = new Set(['docs/api/']);
  const paths = [...readme.matchAll(/`((?:src|test|examples|bench|reliability|docs|package-test)\/[\w./-]*|[\w-]+\.(?:md|yml|json))`/g)].map((m) => m[1]!);
  assert.ok(paths.length > 5, 'the README names repository files');
  const missing = paths.filter((path) => !generated.has(path) && !existsSync(join(repo, path)));
  assert.deepEqual(missing, []);
});
