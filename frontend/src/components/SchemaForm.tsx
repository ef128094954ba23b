import { useState, type FormEvent } from "react";
import { useApp } from "../context";
import { schemaToFields, valuesToArguments, type Field, type FormValues, type JsonSchema } from "../lib/schemaForm";

// A form generated from a tool's JSON Schema; a JSON textarea when the schema is unsupported.
export function SchemaForm({ schema, onSubmit, busy }: { schema: JsonSchema; onSubmit: (args: Record<string, unknown>) => void; busy: boolean }) {
  const { t } = useApp();
  const fields = schemaToFields(schema);
  const [values, setValues] = useState<FormValues>({});
  const [raw, setRaw] = useState("{}");
  const [error, setError] = useState<string | null>(null);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!fields) {
      try {
        const v = JSON.parse(raw) as unknown;
        if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("an object is expected");
        setError(null);
        onSubmit(v as Record<string, unknown>);
      } catch (err) {
        setError(t("tools.invalidJson", { message: (err as Error).message }));
      }
      return;
    }
    const r = valuesToArguments(fields, values);
    if (r.error) return setError(r.error);
    setError(null);
    onSubmit(r.value ?? {});
  };

  return (
    <form className="schema-form" onSubmit={submit}>
      {fields ? (
        fields.map((f) => <FieldInput key={f.name} field={f} value={values[f.name]} onChange={(v) => setValues({ ...values, [f.name]: v })} />)
      ) : (
        <label>
          {t("tools.rawArgs")}
          <textarea rows={6} value={raw} onChange={(e) => setRaw(e.target.value)} className="mono" />
        </label>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {t("tools.run")}
      </button>
    </form>
  );
}

function FieldInput({ field, value, onChange }: { field: Field; value: unknown; onChange: (v: unknown) => void }) {
  const { t } = useApp();
  const id = `f-${field.path.join("-")}`;
  const label = (
    <>
      {field.label}
      {field.required && <span className="muted"> ({t("tools.required")})</span>}
    </>
  );
  const hint = field.description ? <small className="muted">{field.description}</small> : null;
  switch (field.kind) {
    case "object":
      return (
        <fieldset>
          <legend>{label}</legend>
          {hint}
          {field.fields.map((f) => (
            <FieldInput
              key={f.name}
              field={f}
              value={((value ?? {}) as FormValues)[f.name]}
              onChange={(v) => onChange({ ...((value ?? {}) as FormValues), [f.name]: v })}
            />
          ))}
        </fieldset>
      );
    case "boolean":
      return (
        <label className="check" htmlFor={id}>
          <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
          {label} {hint}
        </label>
      );
    case "enum":
      return (
        <label htmlFor={id}>
          {label}
          <select id={id} value={value === undefined ? "" : String(value)} required={field.required} onChange={(e) => onChange(e.target.value)}>
            <option value="">—</option>
            {field.options.map((o) => (
              <option key={String(o)} value={String(o)}>
                {String(o)}
              </option>
            ))}
          </select>
          {hint}
        </label>
      );
    case "array": {
      const items = (value as string[] | undefined) ?? [];
      return (
        <fieldset>
          <legend>{label}</legend>
          {hint}
          {items.map((it, i) => (
            <div className="array-item" key={i}>
              <input
                aria-label={`${field.label} ${i + 1}`}
                type={field.item === "string" ? "text" : field.item === "boolean" ? "text" : "number"}
                value={it}
                onChange={(e) => onChange(items.map((x, j) => (j === i ? e.target.value : x)))}
              />
              <button type="button" onClick={() => onChange(items.filter((_, j) => j !== i))}>
                {t("tools.removeItem")}
              </button>
            </div>
          ))}
          <button type="button" onClick={() => onChange([...items, ""])}>
            {t("tools.addItem")}
          </button>
        </fieldset>
      );
    }
    case "json":
      return (
        <label htmlFor={id}>
          {label} (JSON)
          <textarea id={id} rows={3} className="mono" value={(value as string) ?? ""} onChange={(e) => onChange(e.target.value)} />
          {hint}
        </label>
      );
    default:
      return (
        <label htmlFor={id}>
          {label}
          <input
            id={id}
            type={field.kind === "string" ? "text" : "number"}
            step={field.kind === "integer" ? 1 : "any"}
            required={field.required}
            value={(value as string) ?? ""}
            onChange={(e) => onChange(e.target.value)}
          />
          {hint}
        </label>
      );
  }
}
