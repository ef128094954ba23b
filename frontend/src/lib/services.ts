// Which service answers a path of the stage, to name it when it is down.
export type ServiceName = "agent" | "rag" | "tools" | "auth" | "gateway";

export function serviceOf(path: string): ServiceName {
  const p = path.replace(/^[./]+/, "");
  if (p.startsWith("api/chat")) return "agent";
  if (p.startsWith("api/rag")) return "rag";
  if (p.startsWith("api/tools")) return "tools";
  if (p.startsWith("api/auth")) return "auth";
  return "gateway";
}
