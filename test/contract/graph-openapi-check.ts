import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * Checks recorded Microsoft Graph requests against an OpenAPI 3.0 subset of Microsoft's own description of
 * Graph v1.0 (graph-subset-extended.json, generated from msgraph-metadata's cleanMetadata.xml). It needs
 * nothing outside the repository.
 *
 * Errors: a path or method Graph does not have, a body that does not match its type (types, enums,
 * formats, required properties, CSDL action parameters, the documented required properties in the
 * spec's `x-contract-overlay`), an `@odata.type` that is not a subtype of the expected type, and a
 * malformed JSON batch (https://learn.microsoft.com/graph/json-batching: at most 20 requests, unique ids,
 * relative URLs without the version, a Content-Type on any inner request with a body).
 */

/** One request as recorded by the Graph fake. */
export interface RecordedGraphRequest {
  method: string;
  url: string;
  body?: unknown;
}

/** What the checker found for one HTTP request, or one request inside a batch. */
export interface RequestFinding {
  method: string;
  url: string;
  /** The spec's path template it matched. */
  template?: string;
  /** The inner request's id, for a request inside a $batch. */
  batchId?: string;
  errors: string[];
  warnings: string[];
}

type Json = Record<string, unknown>;
type OpenApiSchema = Json;

interface PathTemplate {
  template: string;
  pattern: RegExp;
  literalSegments: number;
  segments: number;
}

const BATCH_PATH = '/$batch';
/** Hosts of the Graph national clouds: https://learn.microsoft.com/graph/deployments */
const GRAPH_HOSTS = /^(graph\.microsoft\.com|graph\.microsoft\.us|dod-graph\.microsoft\.us|microsoftgraph\.chinacloudapi\.cn)$/i;
/** Keywords of OpenAPI 3.0 that JSON Schema does not have, or that only describe. */
const DESCRIPTIVE = new Set(['discriminator', 'nullable', 'readOnly', 'writeOnly', 'title', 'description', 'example', 'default', 'deprecated', 'xml', 'externalDocs']);

export class GraphOpenApiChecker {
  private readonly spec: Json;
  private readonly schemas: Record<string, OpenApiSchema>;
  private readonly templates: PathTemplate[];
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ignoredRequired: Set<string>;
  private readonly overlay: Json;

  constructor(spec: Json) {
    this.spec = spec;
    this.schemas = ((spec.components as Json | undefined)?.schemas ?? {}) as Record<string, OpenApiSchema>;
    this.overlay = (spec['x-contract-overlay'] ?? {}) as Json;
    this.ignoredRequired = new Set(Object.keys((this.overlay.ignoredRequired as Json | undefined) ?? { '@odata.type': true }));
    this.templates = Object.keys(spec.paths as Json)
      .map((template) => compileTemplate(template))
      .sort((a, b) => b.literalSegments - a.literalSegments || b.segments - a.segments);
    this.ajv = new Ajv({ allErrors: true, strict: false });
    addGraphFormats(this.ajv);
    this.ajv.addSchema({ $id: 'graph', definitions: this.definitions() });
  }

  static fromFile(path: string): GraphOpenApiChecker {
    return new GraphOpenApiChecker(JSON.parse(readFileSync(path, 'utf8')) as Json);
  }

  /** The findings for one recorded HTTP request: one, or for a $batch the envelope first and then each inner request. */
  check(request: RecordedGraphRequest): RequestFinding[] {
    const method = String(request.method ?? '').toUpperCase();
    const finding: RequestFinding = { method, url: String(request.url), errors: [], warnings: [] };
    const location = parseUrl(String(request.url), false);
    if ('error' in location) return [{ ...finding, errors: [location.error] }];
    finding.warnings.push(...location.warnings);
    if (location.path.toLowerCase() === BATCH_PATH) return this.checkBatch(finding, request.body);
    this.checkOperation(finding, location.path, request.body);
    return [finding];
  }

  private checkBatch(envelope: RequestFinding, rawBody: unknown): RequestFinding[] {
    envelope.template = BATCH_PATH;
    if (envelope.method !== 'POST') return [{ ...envelope, errors: ['$batch accepts only POST'] }];
    const body = parseBody(rawBody);
    if (body === INVALID_JSON) return [{ ...envelope, errors: ['the batch body is not valid JSON'] }];
    const batchSchema = (this.spec['x-json-batch'] as Json | undefined)?.schema;
    if (batchSchema) {
      const validate = this.validator('$batch', batchSchema as OpenApiSchema, []);
      if (!validate(body)) envelope.errors.push(...describeErrors(validate.errors, body).map((e) => `batch envelope ${e}`));
    }
    const requests = Array.isArray((body as Json | undefined)?.requests) ? ((body as Json).requests as unknown[]) : [];
    const ids = new Set<string>();
    for (const inner of requests) {
      const id = String((inner as Json | undefined)?.id);
      if (ids.has(id)) envelope.errors.push(`two requests in one batch share the id '${id}'`);
      ids.add(id);
    }
    const findings: RequestFinding[] = [envelope];
    for (const raw of requests) {
      if (!raw || typeof raw !== 'object') continue;
      const inner = raw as Json;
      const finding: RequestFinding = { method: String(inner.method ?? '').toUpperCase(), url: String(inner.url), batchId: String(inner.id), errors: [], warnings: [] };
      const location = parseUrl(String(inner.url), true);
      if ('error' in location) finding.errors.push(location.error);
      else if (location.path.toLowerCase() === BATCH_PATH) finding.errors.push('a $batch cannot contain another $batch');
      else {
        finding.warnings.push(...location.warnings);
        this.checkOperation(finding, location.path, inner.body);
      }
      for (const dependency of ([] as unknown[]).concat(inner.dependsOn ?? [])) {
        if (!ids.has(String(dependency))) finding.errors.push(`dependsOn '${String(dependency)}' names no request in this batch`);
      }
      const hasBody = inner.body !== undefined && inner.body !== null;
      const headers = (inner.headers ?? {}) as Json;
      if (hasBody && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
        finding.errors.push('an inner request with a body needs a Content-Type header (JSON batching)');
      }
      findings.push(finding);
    }
    return findings;
  }

  private checkOperation(finding: RequestFinding, path: string, rawBody: unknown): void {
    const matched = this.templates.find((t) => t.pattern.test(path));
    if (!matched) {
      finding.errors.push(`no operation in Microsoft's description of Graph v1.0 has the path '${path}'`);
      return;
    }
    finding.template = matched.template;
    const item = (this.spec.paths as Record<string, Json>)[matched.template] as Json;
    const operation = item[finding.method.toLowerCase()] as Json | undefined;
    if (!operation) {
      const methods = Object.keys(item).filter((k) => k !== 'parameters').map((k) => k.toUpperCase());
      finding.errors.push(`${finding.method} is not an operation of ${matched.template} (it has ${methods.join(', ')})`);
      return;
    }
    let requestBody = operation.requestBody as Json | undefined;
    if (typeof requestBody?.$ref === 'string') {
      requestBody = ((this.spec.components as Json).requestBodies as Record<string, Json>)[refName(requestBody.$ref)];
    }
    const hasBody = rawBody !== undefined && rawBody !== null && rawBody !== '';
    if (!requestBody) {
      if (hasBody) finding.warnings.push(`${finding.method} ${matched.template} takes no body; Graph ignores it`);
      return;
    }
    if (!hasBody) {
      if (requestBody.required) finding.errors.push('this operation needs a request body');
      return;
    }
    const body = parseBody(rawBody);
    if (body === INVALID_JSON) {
      finding.errors.push('the body is not valid JSON');
      return;
    }
    const schema = ((requestBody.content as Json | undefined)?.['application/json'] as Json | undefined)?.schema as OpenApiSchema | undefined;
    if (!schema) return;
    const validate = this.validator(`${finding.method} ${matched.template}`, schema, this.requiredFor(finding.method, matched.template, operation, body));
    if (!validate(body)) finding.errors.push(...describeErrors(validate.errors, body));
    this.checkODataTypes(body, schema, '', finding.errors);
  }

  /** Required properties Microsoft's OpenAPI does not mark: documented ones (overlay), CSDL action parameters, a $ref body's @odata.id. */
  private requiredFor(method: string, template: string, operation: Json, body: unknown): string[] {
    const required: string[] = [];
    const documented = (this.overlay.requiredProperties as Record<string, { required: string[]; unlessPresent?: string[] }> | undefined)?.[`${method} ${template}`];
    const present = (key: string) => typeof body === 'object' && body !== null && key in body;
    if (documented && !(documented.unlessPresent ?? []).some(present)) required.push(...documented.required);
    required.push(...((operation['x-csdl-required-parameters'] as string[] | undefined) ?? []));
    const refBody = this.overlay.refBody as { required: string[] } | undefined;
    if (operation['x-odata-kind'] === 'createRef' && refBody) required.push(...refBody.required);
    return required;
  }

  /** An `@odata.type` in the body must name the expected type or one of its subtypes. */
  private checkODataTypes(value: unknown, schema: OpenApiSchema | undefined, at: string, errors: string[]): void {
    if (value === null || typeof value !== 'object' || !schema) return;
    if (Array.isArray(value)) {
      if (schema.type === 'array') value.forEach((item, i) => this.checkODataTypes(item, schema.items as OpenApiSchema, `${at}/${i}`, errors));
      return;
    }
    const alternatives = (schema.anyOf ?? schema.allOf) as OpenApiSchema[] | undefined;
    if (!schema.$ref && alternatives?.length) {
      const [first] = alternatives;
      if (first?.$ref) this.checkODataTypes(value, first, at, errors);
      return;
    }
    const expected = typeof schema.$ref === 'string' ? refName(schema.$ref) : undefined;
    if (!expected || !this.isStructured(expected)) return;
    let actual = expected;
    const declared = (value as Json)['@odata.type'];
    if (typeof declared === 'string') {
      const named = declared.replace(/^#/, '');
      if (this.isStructured(named) && !this.ancestors(named).includes(expected)) errors.push(`${at || '(body)'}: @odata.type '${declared}' is not ${expected} or one of its subtypes`);
      if (this.isStructured(named)) actual = named;
    }
    const properties = this.propertiesOf(actual);
    for (const [key, child] of Object.entries(value as Json)) {
      const property = properties[key];
      if (property && !property['x-subset-omitted-type']) this.checkODataTypes(child, property, `${at}/${key}`, errors);
    }
  }

  private isStructured(name: string): boolean {
    const schema = this.schemas[name];
    return !!schema && !!(schema.allOf || schema.properties);
  }

  /** The type and its base types, most derived first. */
  private ancestors(name: string): string[] {
    const chain: string[] = [];
    for (let current: string | undefined = name; current && this.schemas[current] && !chain.includes(current); ) {
      chain.push(current);
      const allOf = this.schemas[current]?.allOf as OpenApiSchema[] | undefined;
      current = typeof allOf?.[0]?.$ref === 'string' ? refName(allOf[0].$ref) : undefined;
    }
    return chain;
  }

  private propertiesOf(name: string): Record<string, OpenApiSchema> {
    const properties: Record<string, OpenApiSchema> = {};
    for (const type of this.ancestors(name)) {
      const schema = this.schemas[type] as OpenApiSchema;
      const own = ((schema.allOf as OpenApiSchema[] | undefined)?.[1] ?? schema).properties as Record<string, OpenApiSchema> | undefined;
      for (const [key, property] of Object.entries(own ?? {})) if (!(key in properties)) properties[key] = property;
    }
    return properties;
  }

  /**
   * Every component schema as JSON Schema. A structured type `T` dispatches on `@odata.type` to the
   * subtype it names (Graph's polymorphism); `T__own` is T's own shape, which subtypes extend.
   */
  private definitions(): Record<string, unknown> {
    const definitions: Record<string, unknown> = {};
    for (const [name, schema] of Object.entries(this.schemas)) {
      const own = this.toJsonSchema(schema) as Json;
      if (!this.isStructured(name)) {
        definitions[name] = own;
        continue;
      }
      if (Array.isArray(own.allOf)) own.allOf = (own.allOf as Json[]).map((part) => (typeof part.$ref === 'string' ? { $ref: `${part.$ref}__own` } : part));
      definitions[`${name}__own`] = own;
      let dispatch: Json = { $ref: `graph#/definitions/${name}__own` };
      for (const subtype of this.subtypesOf(name)) {
        dispatch = {
          if: { type: 'object', required: ['@odata.type'], properties: { '@odata.type': { enum: [`#${subtype}`, subtype] } } },
          then: { $ref: `graph#/definitions/${subtype}__own` },
          else: dispatch,
        };
      }
      definitions[name] = dispatch;
    }
    return definitions;
  }

  private subtypesOf(name: string): string[] {
    const schema = this.schemas[name] as OpenApiSchema;
    const own = (schema.allOf as OpenApiSchema[] | undefined)?.[1] ?? schema;
    const mapping = ((own.discriminator as Json | undefined)?.mapping ?? {}) as Json;
    return Object.keys(mapping).map((key) => key.replace(/^#/, '')).filter((subtype) => this.isStructured(subtype));
  }

  /** OpenAPI 3.0 as written by Microsoft's OpenAPI.NET.OData, to JSON Schema draft-07. */
  private toJsonSchema(schema: unknown): unknown {
    if (schema === undefined || schema === true) return {};
    if (Array.isArray(schema)) return schema.map((s) => this.toJsonSchema(s));
    if (!schema || typeof schema !== 'object') return schema;
    const s = schema as OpenApiSchema;
    if (typeof s.$ref === 'string') return { $ref: `graph#/definitions/${refName(s.$ref)}` };
    // OpenAPI.NET writes "X or null" as anyOf [X, {type: object, nullable: true}].
    const anyOf = s.anyOf as OpenApiSchema[] | undefined;
    if (anyOf?.length === 2 && isNullMarker(anyOf[1])) return { anyOf: [{ type: 'null' }, this.toJsonSchema(anyOf[0])] };
    const out: Json = {};
    for (const [key, value] of Object.entries(s)) {
      if (key.startsWith('x-') || DESCRIPTIVE.has(key)) continue;
      switch (key) {
        case 'properties':
          out.properties = Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, this.toJsonSchema(v)]));
          break;
        case 'additionalProperties':
          // {type: object} alone is Microsoft's marker for an open type, not "every extra value is an object".
          if (!(value && typeof value === 'object' && Object.keys(value).length === 1 && (value as Json).type === 'object')) out.additionalProperties = this.toJsonSchema(value);
          break;
        case 'items':
          out.items = this.toJsonSchema(value);
          break;
        case 'allOf':
        case 'anyOf':
        case 'oneOf':
          // Nullable alternatives overlap, so oneOf would refuse values that match two; anyOf is meant.
          out[key === 'allOf' ? 'allOf' : 'anyOf'] = (value as unknown[]).map((v) => this.toJsonSchema(v));
          break;
        case 'required': {
          const required = (value as string[]).filter((name) => !this.ignoredRequired.has(name));
          if (required.length > 0) out.required = required;
          break;
        }
        default:
          out[key] = value;
      }
    }
    if (s.nullable === true && out.type !== undefined) out.type = ([] as unknown[]).concat(out.type, 'null');
    const flags = s['x-ms-enum-flags'] as { isFlags?: boolean } | undefined;
    if (flags?.isFlags && Array.isArray(out.enum)) {
      // A flags enum is sent as "a,b".
      const one = (out.enum as string[]).map(escapeRegExp).join('|');
      delete out.enum;
      out.pattern = `^(${one})(\\s*,\\s*(${one}))*$`;
    }
    return out;
  }

  private validator(key: string, schema: OpenApiSchema, required: string[]): ValidateFunction {
    const cacheKey = `${key}|${required.join(',')}`;
    let validate = this.validators.get(cacheKey);
    if (!validate) {
      const converted = this.toJsonSchema(schema) as Json;
      validate = this.ajv.compile(required.length > 0 ? { allOf: [converted, { type: 'object', required }] } : converted);
      this.validators.set(cacheKey, validate);
    }
    return validate;
  }
}

const INVALID_JSON = Symbol('invalid JSON');

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

/** The request's path relative to the version, or why it is wrong. A batch's inner URLs are relative and carry no version. */
function parseUrl(url: string, inBatch: boolean): { path: string; warnings: string[] } | { error: string } {
  const warnings: string[] = [];
  let rest = url;
  const absolute = /^https?:\/\/([^/]+)(\/.*)?$/i.exec(url);
  if (absolute) {
    if (inBatch) return { error: `a batch's inner URL must be relative, not '${url}'` };
    if (!GRAPH_HOSTS.test(absolute[1] as string)) warnings.push(`'${absolute[1]}' is not a Microsoft Graph host`);
    rest = absolute[2] ?? '/';
  }
  rest = (rest.split('#')[0] as string).split('?')[0] as string;
  if (!rest.startsWith('/')) rest = `/${rest}`;
  const version = /^\/(v1\.0|beta)(?=\/|$)/i.exec(rest);
  if (version) {
    if (inBatch) return { error: `a batch's inner URL must not repeat the version (/${version[1]}): '${url}'` };
    if ((version[1] as string).toLowerCase() === 'beta') warnings.push('a beta URL, checked against the v1.0 description');
    rest = rest.slice(version[0].length) || '/';
  } else if (!inBatch) {
    return { error: `'${url}' has no /v1.0 or /beta version` };
  }
  const segments = rest.split('/').filter((segment) => segment !== '').map(decodeSegment);
  return { path: `/${segments.join('/')}`, warnings };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * A path template as a case-insensitive pattern. `{param}` matches one segment, or inside quotes anything
 * but a quote. A namespace-qualified action or function (`microsoft.graph.teamsAdministration.assign`)
 * also matches its short name, which Graph accepts and its docs use.
 */
function compileTemplate(template: string): PathTemplate {
  const segments = template.replace(/^\//, '').split('/');
  const parts = segments.map((segment) => {
    let pattern = '';
    for (let i = 0; i < segment.length; ) {
      if (segment[i] === '{') {
        const end = segment.indexOf('}', i);
        pattern += segment[i - 1] === "'" ? "[^']*" : '[^/]+';
        i = end + 1;
      } else {
        pattern += escapeRegExp(segment[i] as string);
        i += 1;
      }
    }
    const qualified = /^microsoft\\\.graph\\\.(?:[A-Za-z]+\\\.)?/.exec(pattern);
    return qualified ? `(?:${qualified[0]})?${pattern.slice(qualified[0].length)}` : pattern;
  });
  return {
    template,
    pattern: new RegExp(`^/${parts.join('/')}$`, 'i'),
    literalSegments: segments.filter((segment) => !/^\{[^}]*\}$/.test(segment)).length,
    segments: segments.length,
  };
}

function describeErrors(errors: ErrorObject[] | null | undefined, data: unknown): string[] {
  const messages: string[] = [];
  for (const error of errors ?? []) {
    if (['if', 'anyOf', 'oneOf', 'allOf'].includes(error.keyword)) continue; // the specific error is reported as well
    const at = error.instancePath || '(body)';
    const value = valueAt(data, error.instancePath);
    switch (error.keyword) {
      case 'required':
        messages.push(`missing required '${error.instancePath}/${String((error.params as { missingProperty: string }).missingProperty)}'`);
        break;
      case 'enum':
        messages.push(`${at}: ${JSON.stringify(value)} is not one of ${((error.params as { allowedValues: unknown[] }).allowedValues ?? []).join(', ')}`);
        break;
      case 'type':
        messages.push(`${at}: expected ${([] as unknown[]).concat((error.params as { type: unknown }).type).join(' or ')}, got ${jsonType(value)}`);
        break;
      case 'pattern':
      case 'format':
        messages.push(`${at}: ${truncate(JSON.stringify(value))} is not in the required format`);
        break;
      default:
        messages.push(`${at}: ${error.message ?? error.keyword}`);
    }
  }
  return [...new Set(messages)];
}

function valueAt(data: unknown, pointer: string): unknown {
  if (!pointer) return data;
  return pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Json)[key.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), data);
}

function addGraphFormats(ajv: Ajv): void {
  const integer = (min?: number, max?: number) => ({ type: 'number' as const, validate: (x: number) => Number.isInteger(x) && (min === undefined || max === undefined || (x >= min && x <= max)) });
  ajv.addFormat('int8', integer(-128, 127));
  ajv.addFormat('uint8', integer(0, 255));
  ajv.addFormat('int16', integer(-32768, 32767));
  ajv.addFormat('int32', integer(-2147483648, 2147483647));
  ajv.addFormat('int64', integer());
  for (const name of ['double', 'float', 'decimal']) ajv.addFormat(name, { type: 'number', validate: () => true });
  // Microsoft's schemas carry their own patterns for these.
  for (const name of ['date-time', 'date', 'time', 'duration', 'uuid']) ajv.addFormat(name, true);
  ajv.addFormat('base64url', /^[A-Za-z0-9+/_-]*={0,2}$/);
}

function isNullMarker(schema: OpenApiSchema | undefined): boolean {
  return !!schema && schema.type === 'object' && schema.nullable === true && !schema.properties && Object.keys(schema).length === 2;
}

function refName(ref: string): string {
  return ref.split('/').pop() as string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function jsonType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function truncate(text: string | undefined): string {
  return text && text.length > 40 ? `${text.slice(0, 37)}...` : String(text);
}
