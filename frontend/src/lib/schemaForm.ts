// JSON Schema → a form description, and form values → the arguments object. Supported: string,
// number, integer, boolean, enum, required, nested objects, arrays of primitives; anything else
// makes the field (or the whole form) a raw JSON textarea.
export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  description?: string;
  title?: string;
  default?: unknown;
  [k: string]: unknown;
};

export type Field =
  | { kind: "string" | "number" | "integer" | "boolean"; name: string; path: string[]; required: boolean; label: string; description?: string }
  | { kind: "enum"; name: string; path: string[]; required: boolean; label: string; description?: string; options: (string | number | boolean)[] }
  | { kind: "array"; name: string; path: string[]; required: boolean; label: string; description?: string; item: "string" | "number" | "integer" | "boolean" }
  | { kind: "object"; name: string; path: string[]; required: boolean; label: string; description?: string; fields: Field[] }
  | { kind: "json"; name: string; path: string[]; required: boolean; label: string; description?: string };

const PRIMITIVES = ["string", "number", "integer", "boolean"] as const;
type Primitive = (typeof PRIMITIVES)[number];

function typeOf(s: JsonSchema): string | undefined {
  if (Array.isArray(s.type)) {
    const t = s.type.filter((x) => x !== "null");
    return t.length === 1 ? t[0] : undefined;
  }
  return s.type;
}

function field(name: string, s: JsonSchema, path: string[], required: boolean): Field {
  const base = { name, path, required, label: s.title ?? name, description: s.description };
  if (Array.isArray(s.enum) && s.enum.length > 0 && s.enum.every((v) => ["string", "number", "boolean"].includes(typeof v))) {
    return { ...base, kind: "enum", options: s.enum as (string | number | boolean)[] };
  }
  const t = typeOf(s);
  if (t && (PRIMITIVES as readonly string[]).includes(t)) return { ...base, kind: t as Primitive };
  if (t === "array" && s.items) {
    const it = typeOf(s.items);
    if (it && (PRIMITIVES as readonly string[]).includes(it) && !s.items.enum) {
      return { ...base, kind: "array", item: it as Primitive };
    }
  }
  if ((t === "object" || (!t && s.properties)) && s.properties) {
    const req = new Set(s.required ?? []);
    return {
      ...base,
      kind: "object",
      fields: Object.entries(s.properties).map(([k, v]) => field(k, v, [...path, k], req.has(k))),
    };
  }
  return { ...base, kind: "json" };
}

// The fields of a tool's parameters schema, or null when the root is not an object with
// properties (the caller then offers a JSON textarea).
export function schemaToFields(schema: JsonSchema | null | undefined): Field[] | null {
  if (!schema || typeof schema !== "object") return null;
  const t = typeOf(schema);
  if (t !== undefined && t !== "object") return null;
  if (!schema.properties) return t === "object" ? [] : null;
  const root = field("", schema, [], true);
  return root.kind === "object" ? root.fields : null;
}

export type FormValues = Record<string, unknown>;

// True when no input under `v` was filled in.
function blank(v: unknown): boolean {
  if (v === undefined || v === "" || v === false) return true;
  if (Array.isArray(v)) return v.every(blank);
  if (typeof v === "object" && v !== null) return Object.values(v).every(blank);
  return false;
}

// Converts a field's raw input (strings from inputs, booleans, string arrays) to JSON.
function convert(f: Field, raw: unknown): { value?: unknown; error?: string } {
  if (f.kind === "object") {
    const out: Record<string, unknown> = {};
    const obj = (raw ?? {}) as FormValues;
    if (!f.required && blank(obj)) return {};
    for (const sub of f.fields) {
      const r = convert(sub, obj[sub.name]);
      if (r.error) return r;
      if (r.value !== undefined) out[sub.name] = r.value;
    }
    if (!f.required && Object.keys(out).length === 0) return {};
    return { value: out };
  }
  const empty = raw === undefined || raw === "" || (Array.isArray(raw) && raw.length === 0);
  if (empty) return f.required && f.kind !== "boolean" ? { error: `${f.path.join(".")} is required` } : f.kind === "boolean" && f.required ? { value: false } : {};
  switch (f.kind) {
    case "string":
      return { value: String(raw) };
    case "number":
    case "integer": {
      const n = Number(raw);
      if (!Number.isFinite(n) || (f.kind === "integer" && !Number.isInteger(n))) {
        return { error: `${f.path.join(".")} must be ${f.kind === "integer" ? "an integer" : "a number"}` };
      }
      return { value: n };
    }
    case "boolean":
      return { value: raw === true || raw === "true" };
    case "enum": {
      const found = f.options.find((o) => String(o) === String(raw));
      return found === undefined ? { error: `${f.path.join(".")}: not an allowed value` } : { value: found };
    }
    case "array": {
      const items = (raw as unknown[]).filter((x) => x !== "" && x !== undefined);
      const out: unknown[] = [];
      for (const x of items) {
        const r = convert({ kind: f.item, name: f.name, path: f.path, required: true, label: f.label }, x);
        if (r.error) return r;
        out.push(r.value);
      }
      return { value: out };
    }
    case "json": {
      try {
        return { value: JSON.parse(String(raw)) };
      } catch (e) {
        return { error: `${f.path.join(".")}: ${(e as Error).message}` };
      }
    }
  }
}

// The arguments object of the form values, or the first error.
export function valuesToArguments(fields: Field[], values: FormValues): { value?: Record<string, unknown>; error?: string } {
  const r = convert({ kind: "object", name: "", path: [], required: true, label: "", fields }, values);
  return r.error ? { error: r.error } : { value: (r.value ?? {}) as Record<string, unknown> };
}
