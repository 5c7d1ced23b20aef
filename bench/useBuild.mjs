/**
 * `node --import tsx --import ./bench/useBuild.mjs bench/run.ts` (what `npm run bench` runs, after
 * `npm run build`): authflow is measured as the package ships it, `dist/src/**.js` from tsc, not
 * its sources through tsx. tsx compiles with esbuild's keepNames, which adds a `__name(fn, ...)`
 * call to every named function created at run time: a per-request cost users do not pay. The
 * bench's own code (floors, harness) still runs through tsx. Workers started by `startWorker`
 * load this hook too (AUTHFLOW_BENCH_BUILD tells them).
 */
import { register } from 'node:module';

register('./useBuildHooks.mjs', import.meta.url);
process.env.AUTHFLOW_BENCH_BUILD = '1';
