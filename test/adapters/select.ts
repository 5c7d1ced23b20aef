/**
 * Which adapters the suites run against: all, or those named in AUTHFLOW_ADAPTERS (comma
 * separated), e.g. the Express 4 run (test/express4) asks for `express` only.
 */
export const selected = (name: string): boolean => {
  const only = process.env.AUTHFLOW_ADAPTERS;
  return !only || only.split(',').map((s) => s.trim()).includes(name);
};
