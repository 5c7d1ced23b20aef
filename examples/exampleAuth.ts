/**
 * The example web apps' `auth()` options, the same on Express and Hono: the orders scope at
 * sign-in, sign-out at the OP too, and back-channel logout (with a shared session index when
 * several instances run).
 */
import type { ConfidentialClient, SessionIndex } from '../src/index.js';
import { ORDERS_SCOPE } from './apis/callOrders.js';

export function exampleAuthOptions(options: { client: ConfidentialClient; baseUrl: string; sessionIndex?: SessionIndex | undefined }) {
  return {
    client: options.client,
    baseUrl: options.baseUrl,
    scopes: [ORDERS_SCOPE],
    idpLogout: true,
    routes: { backchannelLogout: '/backchannel-logout' },
    ...(options.sessionIndex ? { sessionIndex: options.sessionIndex } : {}),
  };
}
