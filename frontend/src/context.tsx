import { createContext, useContext } from "react";
import type { ApiClient } from "./lib/api";
import type { Lang, T } from "./lib/i18n";

export interface User {
  id: string;
  email: string;
  roles: string[];
  disabled: boolean;
  created_at: string;
}

export interface AppState {
  client: ApiClient;
  t: T;
  lang: Lang;
  user: User;
  route: string; // path under the base, without leading "/" (e.g. "chat/12")
  navigate: (path: string) => void;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const s = useContext(AppContext);
  if (!s) throw new Error("useApp outside AppContext");
  return s;
}
