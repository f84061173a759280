import { ApiExcludeController } from '@nestjs/swagger';
import { Controller, Get, NotFoundException, OnModuleInit, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

/**
 * Only the page's own origin, for everything; no inline script or style, no plugins, no framing,
 * no form posts (the page's forms are handled by its script).
 */
export const ADMIN_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ADMIN_HEADERS = {
  'content-security-policy': ADMIN_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

interface Asset {
  body: Buffer;
  type: string;
}

/**
 * The Webhooks page at GET /admin: static files built into dist beside this controller. The page
 * itself needs no key; everything it shows comes from the /v1 API with the key the user enters.
 */
@ApiExcludeController()
@Controller('admin')
export class AdminController implements OnModuleInit {
  private readonly assets = new Map<string, Asset>();

  onModuleInit(): void {
    const dir = join(__dirname, 'assets');
    for (const name of readdirSync(dir)) {
      const type = CONTENT_TYPES[extname(name)];
      if (type) this.assets.set(name, { body: readFileSync(join(dir, name)), type });
    }
  }

  @Get()
  page(@Res() reply: FastifyReply): void {
    this.send(reply, 'index.html');
  }

  /** Looked up among the files read at start-up: a request never names a path on disk. */
  @Get(':file')
  asset(@Param('file') file: string, @Res() reply: FastifyReply): void {
    this.send(reply, file);
  }

  private send(reply: FastifyReply, name: string): void {
    const asset = this.assets.get(name);
    if (!asset) throw new NotFoundException(`no such page asset: ${name.slice(0, 64)}`);
    reply.headers({ ...ADMIN_HEADERS, 'content-type': asset.type }).send(asset.body);
  }
}
