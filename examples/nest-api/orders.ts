/**
 * The orders API of the example (examples/apis/orders.ts) as a NestJS app on its default Express
 * platform, using authflow/express as it is: a guard running `requireBearer`, a controller calling
 * `req.getToken` (On-Behalf-Of) for the inventory API, and an exception filter handing authflow's
 * errors (a claims challenge from the OBO exchange) to `authErrors()`.
 */
import 'reflect-metadata';
import { Catch, Controller, Get, HttpException, Module, Req, Res, UseFilters, UseGuards, type ArgumentsHost, type CanActivate, type DynamicModule, type ExceptionFilter, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Request, RequestHandler, Response } from 'express';
import { AuthError, type ConfidentialClient } from '../../src/index.js';
import { authErrors, requireBearer } from '../../src/express/index.js';

/** A Nest guard running an Express middleware such as `requireBearer(...)`: through when it calls `next()`, stopped when it answered (401/403). */
export class MiddlewareGuard implements CanActivate {
  constructor(private readonly middleware: RequestHandler) {}

  canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    return new Promise((resolve, reject) => {
      // Answered by the middleware itself: false, and Nest only ends the response already sent.
      const answered = (): void => resolve(false);
      res.once('finish', answered).once('close', answered);
      void this.middleware(req, res, (err?: unknown) => {
        res.off('finish', answered).off('close', answered);
        if (err) reject(err);
        else resolve(true);
      });
    });
  }
}

/** authflow's errors thrown in a controller (`req.getToken` needing the user back) answered by `authErrors()`: a 401 challenge. */
@Catch(AuthError)
export class AuthErrorsFilter implements ExceptionFilter {
  readonly #handler = authErrors();

  catch(error: AuthError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.#handler(error, http.getRequest<Request>(), http.getResponse<Response>(), (err?: unknown) => {
      // Not answered by authflow (cannot happen for an AuthError): Nest's plain 500.
      http.getResponse<Response>().status(err instanceof HttpException ? err.getStatus() : 500).json({ statusCode: 500 });
    });
  }
}

export interface NestOrdersOptions {
  /** The orders API's own confidential client (it authenticates the OBO exchange). */
  client: ConfidentialClient;
  /** Base URL of the inventory API. */
  inventoryUrl: string;
}

/** The Nest module of the orders API, configured with the client and the inventory URL. */
export function ordersModule(options: NestOrdersOptions): DynamicModule {
  const guard = new MiddlewareGuard(requireBearer({ client: options.client, audience: 'api://orders', scopes: ['Orders.Read'] }));

  @Controller('orders')
  @UseGuards(guard)
  @UseFilters(new AuthErrorsFilter())
  class OrdersController {
    @Get()
    async list(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<unknown> {
      const token = await req.getToken(['api://inventory/Inventory.Read']);
      const inventory = await fetch(`${options.inventoryUrl}/inventory`, { headers: { authorization: `Bearer ${token}` } });
      if (!inventory.ok) {
        res.status(502);
        return { error: 'inventory_failed', status: inventory.status };
      }
      return {
        orders: [{ id: 1001, sku: 'tea-001', quantity: 2 }, { id: 1002, sku: 'mug-002', quantity: 1 }],
        user: req.auth?.oid,
        inventory: await inventory.json(),
      };
    }
  }

  @Module({ controllers: [OrdersController] })
  class OrdersModule {}

  return { module: OrdersModule };
}

/** The Nest application (Express platform), not yet listening. */
export async function createNestOrdersApi(options: NestOrdersOptions): Promise<INestApplication> {
  const app = await NestFactory.create(ordersModule(options), { logger: ['error', 'warn'] });
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  return app;
}
