// The app's base under the stage prefix, from <base href> (rewritten by the frontend server to
// /{stage}/). Every API URL is relative to it, so one build serves every stage.

export function baseUrl(): URL {
  return new URL(".", document.baseURI);
}

// The router's base path, always ending with "/" (e.g. "/dev/").
export function basePath(): string {
  return baseUrl().pathname;
}

// An absolute URL of a path relative to the base ("api/chat/..." → "/dev/api/chat/...").
export function apiUrl(path: string): string {
  return new URL(path.replace(/^\/+/, ""), baseUrl()).toString();
}
