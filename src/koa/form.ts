/**
 * Parses an `application/x-www-form-urlencoded` body into a null-prototype object: a field named
 * `__proto__` (or `constructor`) is an ordinary field, never the object's prototype. A name sent
 * more than once gives an array of its values, in order.
 *
 * @example
 * ```ts
 * parseUrlencoded('state=abc&__proto__=x'); // { state: 'abc', __proto__: 'x' } (own properties, no prototype)
 * ```
 * @see https://url.spec.whatwg.org/#application/x-www-form-urlencoded
 */
export function parseUrlencoded(body: string): Record<string, string | string[]> {
  const form = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(body)) {
    const previous = Object.hasOwn(form, name) ? form[name] : undefined;
    form[name] = previous === undefined ? value : ([] as string[]).concat(previous, value);
  }
  return form;
}
