import { describe, expect, it } from "vitest";
import { SseParser, type SseEvent } from "./sse";

const stream =
  ": ping\r\nevent: message.delta\r\ndata: {\"text\":\"Hel\"}\r\n\r\n" +
  "event: message.delta\ndata: {\"text\":\"lo\"}\n\n" +
  ":heartbeat\n\n" +
  "event: citations\rdata: line one\rdata: line two\r\r" +
  "event: message.done\ndata:{\"message\":{}}\n\n";

const expected: SseEvent[] = [
  { event: "message.delta", data: '{"text":"Hel"}', id: undefined },
  { event: "message.delta", data: '{"text":"lo"}', id: undefined },
  { event: "citations", data: "line one\nline two", id: undefined },
  { event: "message.done", data: '{"message":{}}', id: undefined },
];

describe("SseParser", () => {
  it("parses a whole stream: CRLF, LF, CR, comments, multi-line data", () => {
    expect(new SseParser().push(stream)).toEqual(expected);
  });

  it("gives the same events whatever the chunk boundaries", () => {
    for (let size = 1; size <= 7; size++) {
      const p = new SseParser();
      const out: SseEvent[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...p.push(stream.slice(i, i + size)));
      expect(out, `chunks of ${size}`).toEqual(expected);
    }
    // every two-way split, including between \r and \n
    for (let i = 0; i <= stream.length; i++) {
      const p = new SseParser();
      expect([...p.push(stream.slice(0, i)), ...p.push(stream.slice(i))], `split at ${i}`).toEqual(expected);
    }
  });

  it("ignores heartbeats and events without data", () => {
    expect(new SseParser().push(": ping\n\n: ping\n\nevent: x\n\n")).toEqual([]);
  });

  it("keeps an unfinished event until its blank line", () => {
    const p = new SseParser();
    expect(p.push("event: error\ndata: {\"error\":1}\n")).toEqual([]);
    expect(p.push("\n")).toEqual([{ event: "error", data: '{"error":1}', id: undefined }]);
  });
});
