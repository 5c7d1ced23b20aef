import { setTimeout as sleep } from 'node:timers/promises';
import * as oidc from 'openid-client';
import { AuthError } from '../errors.js';
import { normalizeScopes, withOidcScopes } from '../cache/scopes.js';
import type { TokenResult } from '../results.js';
import type { FlowContext } from './context.js';
import { storeUserTokens } from './userTokens.js';
import { withClaims } from './claims.js';

/** The device-code grant type (RFC 8628 §3.4). */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** Polling interval when the OP names none (RFC 8628 §3.2), and the back-off added on `slow_down` (§3.5), seconds. */
const DEFAULT_INTERVAL = 5;
const SLOW_DOWN_STEP = 5;

/** What {@link PublicClient.initiateDeviceFlow} asks the OP for. */
export interface DeviceFlowRequest {
  /** Scopes to ask for; `openid profile offline_access` are added. */
  scopes: readonly string[];
  /** A claims request / challenge (JSON string). */
  claims?: string;
}

/**
 * A device-code sign-in in progress (MSAL's `initiate_device_flow` result): show `message` (or
 * `verificationUri` and `userCode`) to the user, then hand the flow to `acquireTokenByDeviceFlow`.
 * Plain serialisable data; `deviceCode` is a credential until redeemed: do not log it.
 */
export interface DeviceFlow {
  /** The code the user types at `verificationUri`. */
  userCode: string;
  /** The device code the client polls with: a credential until redeemed, never logged or shown. */
  deviceCode: string;
  /** Where the user goes to type `userCode`. */
  verificationUri: string;
  /** `verificationUri` with the user code in it, when the OP offers one (for a QR code or a link). */
  verificationUriComplete?: string;
  /** Lifetime of the codes in seconds, as the OP said. */
  expiresIn: number;
  /** Seconds to wait between two polls (the OP's, else 5). */
  interval: number;
  /** What to tell the user (the OP's `message` when it sends one, as Entra does). */
  message: string;
  /** Scopes asked for, OIDC scopes included. */
  scopes: string[];
  /** When the codes expire, epoch milliseconds. */
  expiresAt: number;
}

/** What `onPending` is told after each poll the OP answered "not yet". */
export interface DevicePollInfo {
  /** Polls made so far. */
  attempt: number;
  /** `authorization_pending`, or `slow_down` (the interval just grew by 5 s). */
  reason: 'authorization_pending' | 'slow_down';
  /** Seconds until the next poll. */
  interval: number;
}

/** Options of {@link PublicClient.acquireTokenByDeviceFlow}. */
export interface DeviceFlowPollOptions {
  /** Cancels the polling: the call rejects with `flow_cancelled` at once, and no further request is made. */
  signal?: AbortSignal;
  /** Called after each poll the user has not completed yet. */
  onPending?: (info: DevicePollInfo) => void;
}

/**
 * Starts a device-code sign-in (RFC 8628 §3.1): asks the OP for a device code and a user code.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.1
 */
export async function initiateDeviceFlow(ctx: FlowContext, request: DeviceFlowRequest): Promise<DeviceFlow> {
  if (request === null || typeof request !== 'object') throw new AuthError('invalid_argument', { description: 'the request must be an object' });
  const scopes = withOidcScopes(normalizeScopes(request.scopes));
  const parameters: Record<string, string> = { scope: scopes.join(' ') };
  if (ctx.config.authority.type === 'entra') parameters.client_info = '1';
  withClaims(ctx.config, parameters, request.claims);
  const response = await ctx.op.call((configuration) => oidc.initiateDeviceAuthorization(configuration, parameters));
  const interval = typeof response.interval === 'number' && response.interval >= 0 ? response.interval : DEFAULT_INTERVAL;
  const message = typeof response.message === 'string' && response.message !== ''
    ? response.message
    : `To sign in, use a web browser to open the page ${response.verification_uri} and enter the code ${response.user_code} to authenticate.`;
  return {
    userCode: response.user_code,
    deviceCode: response.device_code,
    verificationUri: response.verification_uri,
    ...(response.verification_uri_complete ? { verificationUriComplete: response.verification_uri_complete } : {}),
    expiresIn: response.expires_in,
    interval,
    message,
    scopes,
    expiresAt: Date.now() + response.expires_in * 1000,
  };
}

/**
 * Polls the token endpoint until the user completes (or refuses) the sign-in (RFC 8628 §3.4-3.5):
 * waits `interval` seconds between polls, 5 s more after each `slow_down`; `authorization_pending`
 * calls `onPending`; `expired_token` and `access_denied` end it with that code; the signal ends it
 * with `flow_cancelled`. The ID token is verified (signature, iss, aud, exp; no nonce in this
 * grant) and the tokens are cached in `partition` like an auth-code sign-in's.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.4
 */
export async function acquireTokenByDeviceFlow(
  ctx: FlowContext,
  flow: DeviceFlow,
  options: DeviceFlowPollOptions,
  partition: string,
): Promise<TokenResult> {
  if (!flow || typeof flow !== 'object' || typeof flow.deviceCode !== 'string' || flow.deviceCode === '') {
    throw new AuthError('flow_missing', { description: 'flow must be the result of initiateDeviceFlow()' });
  }
  const { signal, onPending } = options ?? {};
  let interval = Number.isFinite(flow.interval) && flow.interval >= 0 ? flow.interval : DEFAULT_INTERVAL;
  const parameters: Record<string, string> = { device_code: flow.deviceCode };
  if (ctx.config.authority.type === 'entra') parameters.client_info = '1';
  withClaims(ctx.config, parameters);

  for (let attempt = 1; ; attempt += 1) {
    await pause(interval, signal);
    let response: Awaited<ReturnType<typeof oidc.genericGrantRequest>>;
    try {
      response = await ctx.op.call((configuration) => oidc.genericGrantRequest(configuration, DEVICE_CODE_GRANT, parameters), signal ? { signal } : {});
    } catch (err) {
      if (signal?.aborted) throw cancelled(signal);
      if (!(err instanceof AuthError)) throw err;
      if (err.code === 'authorization_pending' || err.code === 'slow_down') {
        if (err.code === 'slow_down') interval += SLOW_DOWN_STEP;
        if (Date.now() >= (Number.isFinite(flow.expiresAt) ? flow.expiresAt : Infinity)) {
          throw new AuthError('expired_token', { description: 'the device code expired before the user completed the sign-in; start again' });
        }
        onPending?.({ attempt, reason: err.code, interval });
        continue;
      }
      throw clearer(err);
    }
    return storeUserTokens(ctx, response, flow.scopes, partition);
  }
}

/** Waits `seconds`, rejecting with `flow_cancelled` as soon as the signal aborts. */
async function pause(seconds: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) throw cancelled(signal);
  try {
    await sleep(seconds * 1000, undefined, signal ? { signal } : {});
  } catch (err) {
    if (signal?.aborted) throw cancelled(signal);
    throw err;
  }
}

function cancelled(signal: AbortSignal): AuthError {
  return new AuthError('flow_cancelled', { description: 'the device-code sign-in was cancelled', cause: signal.reason });
}

/** The OP's final answers, said plainly (the OP's own description kept after it). */
function clearer(err: AuthError): AuthError {
  const prefix = err.code === 'expired_token'
    ? 'the device code expired before the user completed the sign-in; start again'
    : err.code === 'access_denied' ? 'the user declined the sign-in' : undefined;
  if (!prefix) return err;
  return new AuthError(err.code, {
    description: `${prefix} (${err.description})`,
    ...(err.correlationId ? { correlationId: err.correlationId } : {}),
    ...(err.suberror ? { suberror: err.suberror } : {}),
    cause: err,
  });
}
