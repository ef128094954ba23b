import { describe, expect, it } from "vitest";
import { applyEvent, toItems, type Item, type Message } from "./model";

describe("toItems", () => {
  it("folds tool calls and their results into the answer that follows a question", () => {
    const messages: Message[] = [
      { id: 1, role: "user", content: "what is 12*7?" },
      { id: 2, role: "assistant", content: "", tool_calls: [{ id: "c1", name: "calculator", arguments: '{"expression":"12*7"}' }] },
      { id: 3, role: "tool", content: "84", tool_call_id: "c1", name: "calculator" },
      { id: 4, role: "assistant", content: "The result is 84.", model: "enkisys-offline" },
    ];
    const items = toItems(messages);
    expect(items).toHaveLength(2);
    expect(items[1]).toMatchObject({
      role: "assistant",
      content: "The result is 84.",
      model: "enkisys-offline",
      question: "what is 12*7?",
      steps: [{ id: "c1", name: "calculator", arguments: '{"expression":"12*7"}', result: "84" }],
    });
  });
});

describe("applyEvent", () => {
  it("builds an answer from the stream's events", () => {
    let item: Item = { key: "a", role: "assistant", content: "", citations: [], steps: [], streaming: true };
    const events: [string, unknown][] = [
      ["tool.call", { id: "c1", name: "calculator", arguments: { expression: "1+1" } }],
      ["tool.result", { id: "c1", result: 2 }],
      ["message.delta", { text: "It is " }],
      ["message.delta", { text: "2 [1]." }],
      ["citations", { items: [{ index: 1, chunk_id: "k", document_id: "d", collection_id: "c", title: "T", heading_path: [] }] }],
      ["message.done", { message: { id: 9, role: "assistant", content: "It is 2 [1].", model: "m" } }],
    ];
    for (const [event, data] of events) item = applyEvent(item, { event, data: JSON.stringify(data) });
    expect(item.content).toBe("It is 2 [1].");
    expect(item.streaming).toBe(false);
    expect(item.model).toBe("m");
    expect(item.citations.map((c) => c.title)).toEqual(["T"]);
    expect(item.steps[0]?.result).toBe("2");
    const failed = applyEvent(item, { event: "error", data: '{"error":{"code":"model_unavailable","message":"down"}}' });
    expect(failed.error).toBe("down");
  });
});
