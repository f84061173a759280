import { BeforeApplicationShutdown, Controller, Get, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IdentifierPipe } from '../common/identifier.pipe';
import { eventSubject } from '@hookrunner/contracts';
import { ApiErrors, ApiIdentifiers } from '../openapi/api-responses.decorator';
import { BotEventsService } from './bot-events.service';
import { SSE_HEADERS, sseComment, sseMessage } from './sse';

/** An idle stream gets a comment this often, well inside the usual 60 s proxy read timeout. */
export const HEARTBEAT_MS = 15_000;
/** A client this far behind is cut off (it reconnects): its backlog must not grow the API's memory. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * `GET /v1/bots/{botId}/events/stream`: the bot's events as server-sent events, `id` the callId and
 * `event` the event type. Every stream shares the process's one subscriber; a stream's listener
 * goes when its client does, and every open stream ends when the API shuts down.
 */
@ApiTags('events')
@ApiIdentifiers('botId')
@Controller('v1/bots/:botId/events')
export class EventsStreamController implements BeforeApplicationShutdown {
  private readonly streams = new Set<() => void>();

  constructor(private readonly events: BotEventsService) {}

  @Get('stream')
  @ApiOperation({
    summary: 'The bot’s events as server-sent events',
    description: 'Each event as published, `id` its callId and `event` its type; a comment every 15 s keeps it open.',
  })
  @ApiProduces('text/event-stream')
  @ApiResponse({
    status: 200,
    description: 'An endless text/event-stream.',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiErrors(400)
  async stream(@Param('botId', IdentifierPipe) botId: string, @Res() reply: FastifyReply): Promise<void> {
    const res = reply.raw;
    // Events that arrive between Redis's confirmation and the headers going out wait here.
    let early: string[] | undefined = [];
    let end = (): void => undefined;
    const send = (frame: string): void => {
      if (early) early.push(frame);
      else if (res.writableLength > MAX_BUFFERED_BYTES) end();
      else res.write(frame);
    };
    // Subscribing first: a Redis failure is still an ordinary error reply (503), and every event
    // published after the client sees the first comment reaches it.
    const unsubscribe = await this.events.subscribe(botId, (event, raw) =>
      send(sseMessage({ id: eventSubject(event), event: event.type, data: raw })),
    );
    reply.hijack();
    if (isGone(res)) return unsubscribe();
    res.writeHead(200, SSE_HEADERS);
    res.write(sseComment(`events of bot ${botId}`));
    const backlog = early;
    early = undefined;
    backlog.forEach(send);
    const heartbeat = setInterval(() => send(sseComment('heartbeat')), HEARTBEAT_MS);
    end = () => {
      if (!this.streams.delete(end)) return;
      clearInterval(heartbeat);
      unsubscribe();
      if (!res.writableEnded) res.end();
    };
    this.streams.add(end);
    res.once('close', end);
    res.once('error', end);
  }

  /** Ends every open stream before the server closes, which would otherwise wait for them. */
  beforeApplicationShutdown(): void {
    for (const end of [...this.streams]) end();
  }
}

function isGone(res: ServerResponse): boolean {
  return res.destroyed || !res.socket || res.socket.destroyed;
}
