// The agent's conversation data and its display form: one item per user message and one per
// answer (its tool steps, text, citations and model).
import type { ApiClient } from "../../lib/api";
import { errorOf } from "../../lib/api";
import { readSse, type SseEvent } from "../../lib/sse";

export type Id = string | number;

export interface Citation {
  index: number;
  chunk_id: Id;
  document_id: Id;
  collection_id: Id;
  title: string;
  text?: string;
  heading_path: string[];
  page?: number;
  location?: { start?: number; end?: number; page?: number | null };
}

export interface Message {
  id: Id;
  role: "user" | "assistant" | "tool" | "system";
  content: string;
  citations?: Citation[];
  tool_calls?: { id: string; name: string; arguments: unknown }[];
  model?: string;
  interrupted?: boolean;
  tool_call_id?: string;
  name?: string;
}

export interface Conversation {
  id: Id;
  title: string;
  collections?: Id[];
  updated_at?: string;
  messages?: Message[];
}

export interface Step {
  id: string;
  name: string;
  arguments: string;
  result?: string;
  error?: string;
}

export interface Item {
  key: string;
  role: "user" | "assistant";
  content: string;
  citations: Citation[];
  steps: Step[];
  model?: string;
  interrupted?: boolean;
  streaming?: boolean;
  error?: string;
  question?: string; // for an answer: the question it answers (retry, passage lookup)
}

export function text(v: unknown): string {
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

export function toItems(messages: Message[]): Item[] {
  const out: Item[] = [];
  let question = "";
  for (const m of messages) {
    if (m.role === "user") {
      question = m.content;
      out.push({ key: `m${m.id}`, role: "user", content: m.content, citations: [], steps: [] });
      continue;
    }
    if (m.role !== "assistant" && m.role !== "tool") continue;
    let last = out[out.length - 1];
    if (!last || last.role !== "assistant") {
      last = { key: `m${m.id}`, role: "assistant", content: "", citations: [], steps: [], question };
      out.push(last);
    }
    if (m.role === "tool") {
      const step = last.steps.find((s) => s.id === m.tool_call_id);
      if (step) step.result = m.content;
      continue;
    }
    for (const c of m.tool_calls ?? []) last.steps.push({ id: c.id, name: c.name, arguments: text(c.arguments) });
    if (m.content) last.content = m.content;
    if (m.citations?.length) last.citations = m.citations;
    if (m.model) last.model = m.model;
    last.interrupted = m.interrupted;
  }
  return out;
}

// Applies one streamed event to the answer being built.
export function applyEvent(item: Item, ev: SseEvent): Item {
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(ev.data) as Record<string, unknown>;
  } catch {
    return item;
  }
  switch (ev.event) {
    case "message.delta":
      return { ...item, content: item.content + String(data.text ?? "") };
    case "tool.call":
      return {
        ...item,
        steps: [...item.steps, { id: String(data.id), name: String(data.name), arguments: text(data.arguments) }],
      };
    case "tool.result":
      return {
        ...item,
        steps: item.steps.map((s) =>
          s.id === String(data.id)
            ? { ...s, result: "result" in data ? text(data.result) : undefined, error: "error" in data ? text(data.error) : undefined }
            : s,
        ),
      };
    case "citations":
      return { ...item, citations: (data.items as Citation[]) ?? [] };
    case "message.done": {
      const m = data.message as Message | undefined;
      return {
        ...item,
        streaming: false,
        content: m?.content ?? item.content,
        citations: m?.citations?.length ? m.citations : item.citations,
        model: m?.model ?? item.model,
      };
    }
    case "error": {
      const e = data.error as { message?: string } | string | undefined;
      return { ...item, streaming: false, error: typeof e === "string" ? e : (e?.message ?? "error") };
    }
    default:
      return item;
  }
}

// Posts a message and streams its answer's events to `on`.
export async function streamTurn(
  client: ApiClient,
  conversation: Id,
  content: string,
  signal: AbortSignal,
  on: (ev: SseEvent) => void,
): Promise<void> {
  const path = `api/chat/conversations/${conversation}/messages`;
  const res = await client.fetch(path, {
    method: "POST",
    headers: { Accept: "text/event-stream", "Content-Type": "application/json" },
    body: JSON.stringify({ content }),
    signal,
  });
  if (!res.ok || !res.body) throw await errorOf(res, path);
  for await (const ev of readSse(res.body)) on(ev);
}
