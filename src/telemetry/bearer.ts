/** Metrics of bearer-token validation: outcomes and verified-token cache hits (no span: the app's HTTP span covers it). */
import { ATTR } from './names.js';
import { anyProviderRegistered, errorCodeOf } from './otel.js';
import { instruments } from './metrics.js';

/** Counts each validation by outcome (`valid`, `refused` with its `error.code`); `validate` itself when no meter is registered. */
export function observeBearer<T>(validate: (token: string) => Promise<T>): (token: string) => Promise<T> {
  return (token: string) => {
    const metrics = anyProviderRegistered() ? instruments() : undefined;
    if (!metrics) return validate(token);
    return validate(token).then(
      (claims) => {
        metrics.bearerValidations.add(1, { [ATTR.outcome]: 'valid' });
        return claims;
      },
      (err: unknown) => {
        metrics.bearerValidations.add(1, { [ATTR.outcome]: 'refused', [ATTR.errorCode]: errorCodeOf(err) });
        throw err;
      },
    );
  };
}

/** A token was found in the verified-token cache. */
export function noteVerifiedTokenHit(): void {
  if (anyProviderRegistered()) instruments()?.bearerCacheHits.add(1);
}
