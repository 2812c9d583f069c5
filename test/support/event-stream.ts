// The dashboard's server-sent events, read as a browser's EventSource reads them, for the tests that watch it.

export interface StreamEvent {
  event: string;
  data: Record<string, unknown>;
}

/**
 * Reads `${url}events` until `count` events arrived (events named in `skip`, such as the once-a-second `sample`,
 * are not counted); `whileOpen` runs once, as soon as the first counted event is in.
 */
export async function readEvents(url: string, count: number, whileOpen: () => void = () => {}, { skip = [] }: { skip?: string[] } = {}): Promise<StreamEvent[]> {
  const response = await fetch(`${url}events`);
  const reader = response.body!.getReader();
  const events: StreamEvent[] = [];
  let buffer = '';
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += Buffer.from(value).toString('utf8');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || !data || skip.includes(event)) continue;
      events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
      if (events.length === 1) whileOpen();
    }
  }
  await reader.cancel();
  return events;
}
