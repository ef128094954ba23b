import { describe, expect, it } from "vitest";
import { schemaToFields, valuesToArguments, type JsonSchema } from "./schemaForm";

const schema: JsonSchema = {
  type: "object",
  required: ["city", "days"],
  properties: {
    city: { type: "string", description: "City name" },
    days: { type: "integer" },
    ratio: { type: "number" },
    metric: { type: "boolean" },
    unit: { enum: ["c", "f"] },
    tags: { type: "array", items: { type: "string" } },
    where: { type: "object", required: ["lat"], properties: { lat: { type: "number" }, lon: { type: "number" } } },
    odd: { oneOf: [{ type: "string" }, { type: "number" }] },
  },
};

describe("schemaToFields", () => {
  it("maps each supported type to its field kind", () => {
    const f = schemaToFields(schema) ?? [];
    expect(f.map((x) => [x.name, x.kind, x.required])).toEqual([
      ["city", "string", true],
      ["days", "integer", true],
      ["ratio", "number", false],
      ["metric", "boolean", false],
      ["unit", "enum", false],
      ["tags", "array", false],
      ["where", "object", false],
      ["odd", "json", false],
    ]);
    const where = f[6];
    expect(where?.kind === "object" && where.fields.map((x) => [x.path.join("."), x.required])).toEqual([
      ["where.lat", true],
      ["where.lon", false],
    ]);
  });

  it("gives null for a root that is not an object (the caller shows raw JSON)", () => {
    expect(schemaToFields({ type: "array", items: {} })).toBeNull();
    expect(schemaToFields({ anyOf: [] })).toBeNull();
    expect(schemaToFields({ type: "object" })).toEqual([]);
  });
});

describe("valuesToArguments", () => {
  const fields = schemaToFields(schema) ?? [];
  it("converts inputs to typed JSON and leaves empty optionals out", () => {
    const r = valuesToArguments(fields, {
      city: "Lima",
      days: "3",
      ratio: "",
      metric: true,
      unit: "f",
      tags: ["a", "", "b"],
      where: { lat: "1.5", lon: "" },
      odd: "42",
    });
    expect(r).toEqual({
      value: { city: "Lima", days: 3, metric: true, unit: "f", tags: ["a", "b"], where: { lat: 1.5 }, odd: 42 },
    });
  });

  it("reports a missing required field and a bad integer", () => {
    expect(valuesToArguments(fields, { days: "3" }).error).toMatch(/city is required/);
    expect(valuesToArguments(fields, { city: "x", days: "2.5" }).error).toMatch(/days must be an integer/);
    expect(valuesToArguments(fields, { city: "x", days: "1", where: { lon: "2" } }).error).toMatch(/where.lat is required/);
    expect(valuesToArguments(fields, { city: "x", days: "1", odd: "{" }).error).toMatch(/odd:/);
  });
});
