/**
 * The default logger, as a table: which levels reach stderr in development and in production, and
 * the line's shape (one line, `authflow <level> <message> {json}`, whatever the values hold).
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLogger, stderrLogger } from '../../src/logger.js';
import { captureStderr } from '../helpers/stderr.js';

describe('the default logger', () => {
  afterEach(() => {
    delete process.env.NODE_ENV;
  });

  const cases: Array<[env: string | undefined, level: 'debug' | 'info' | 'warn' | 'error', written: boolean]> = [
    [undefined, 'debug', false], [undefined, 'info', false], [undefined, 'warn', true], [undefined, 'error', true],
    ['development', 'warn', true], ['test', 'error', true],
    ['production', 'debug', false], ['production', 'info', false], ['production', 'warn', false], ['production', 'error', true],
  ];
  for (const [env, level, written] of cases) {
    it(`NODE_ENV=${env ?? '(unset)'}: ${level} ${written ? 'goes to stderr' : 'is dropped'}`, () => {
      if (env) process.env.NODE_ENV = env;
      const stderr = captureStderr();
      try {
        defaultLogger[level]({ code: 'x' }, 'authflow: something');
      } finally {
        stderr.restore();
      }
      assert.deepEqual(stderr.lines(), written ? [`authflow ${level} something {"code":"x"}`] : []);
    });
  }

  it('keeps a line one line, whatever a forged description holds', () => {
    const stderr = captureStderr();
    try {
      stderrLogger(['warn']).warn({ description: 'evil\nauthflow error forged {}', cause: new Error('boom') }, 'authflow: access_denied: evil\r\nline');
    } finally {
      stderr.restore();
    }
    assert.deepEqual(stderr.lines(), ['authflow warn access_denied: evil line {"description":"evil\\nauthflow error forged {}","cause":"boom"}']);
  });
});
