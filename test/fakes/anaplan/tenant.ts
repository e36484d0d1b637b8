// The content of a simulated Anaplan tenant, made on demand from indexes: the same size always
// gives the same records, and a model of 10,000 line items costs no memory until it is read.
// Ids are strings, as Anaplan sends them: workspaces 32 lowercase hex, models 32 uppercase hex,
// model objects 12 digits with their type prefix (list 101, module 102, line item 206).

/** How big the tenant is. */
export interface AnaplanTenantSize {
  readonly workspaces: number;
  readonly modelsPerWorkspace: number;
  readonly listsPerModel: number;
  readonly modulesPerModel: number;
  readonly lineItemsPerModule: number;
  /** The last `archived` models of the last workspace are ARCHIVED. */
  readonly archived: number;
  /** The first `forbidden` models of the first workspace answer 404 to their contents. */
  readonly forbidden: number;
}

export const DEFAULT_SIZE: AnaplanTenantSize = {
  workspaces: 2,
  modelsPerWorkspace: 2,
  listsPerModel: 3,
  modulesPerModel: 2,
  lineItemsPerModule: 3,
  archived: 0,
  forbidden: 0,
};

const STATES = ['UNLOCKED', 'PRODUCTION', 'LOCKED', 'MAINTENANCE'] as const;
const FORMATS = ['NUMBER', 'TEXT', 'BOOLEAN', 'DATE'] as const;
const VERSIONS = [
  { id: '107000000001', name: 'Actual', isActual: true, isCurrent: false },
  { id: '107000000002', name: 'Forecast', isActual: false, isCurrent: true },
] as const;

type Json = Record<string, unknown>;

/** A model's place: its workspace index and its index inside the workspace. */
export interface ModelRef {
  readonly workspace: number;
  readonly index: number;
}

export class SimulatedTenant {
  readonly size: AnaplanTenantSize;

  constructor(size: Partial<AnaplanTenantSize> = {}) {
    this.size = { ...DEFAULT_SIZE, ...size };
  }

  workspaceId(w: number): string {
    return `8a81b09d${hex(w, 24)}`;
  }

  workspace(w: number): Json {
    return {
      id: this.workspaceId(w),
      name: `Workspace ${w + 1}`,
      active: true,
      sizeAllowance: 10_737_418_240,
    };
  }

  workspaceIndexOf(id: string): number | undefined {
    return indexOf(this.size.workspaces, (w) => this.workspaceId(w) === id);
  }

  modelId(ref: ModelRef): string {
    return `75A40874${hex(ref.workspace, 8)}${hex(ref.index, 16)}`.toUpperCase();
  }

  /** Every model, workspace by workspace. */
  modelRefs(): ModelRef[] {
    const refs: ModelRef[] = [];
    for (let workspace = 0; workspace < this.size.workspaces; workspace += 1) {
      for (let index = 0; index < this.size.modelsPerWorkspace; index += 1) {
        refs.push({ workspace, index });
      }
    }
    return refs;
  }

  modelRefOf(id: string): ModelRef | undefined {
    return this.modelRefs().find((ref) => this.modelId(ref) === id);
  }

  isArchived(ref: ModelRef): boolean {
    const last = this.size.workspaces - 1;
    return ref.workspace === last && ref.index >= this.size.modelsPerWorkspace - this.size.archived;
  }

  isForbidden(ref: ModelRef): boolean {
    return ref.workspace === 0 && ref.index < this.size.forbidden;
  }

  model(ref: ModelRef): Json {
    const n = ref.workspace * this.size.modelsPerWorkspace + ref.index;
    return {
      id: this.modelId(ref),
      name: `Model ${ref.workspace + 1}.${ref.index + 1}`,
      activeState: this.isArchived(ref) ? 'ARCHIVED' : STATES[n % STATES.length],
      currentWorkspaceId: this.workspaceId(ref.workspace),
      currentWorkspaceName: `Workspace ${ref.workspace + 1}`,
      modelUrl: `https://us1a.app.anaplan.com/core/models/${this.modelId(ref)}`,
      categoryValues: [],
      isoCreationDate: '2023-02-01T10:00:00.000+0000',
      lastModified: '2025-06-01T10:00:00.000+0000',
      lastModifiedByUserGuid: '8a868cdb8b7841a2018bf2c183307cd7',
      lastSavedSerialNumber: String(2_000_000 + n),
      memoryUsage: 104_857_600 + n * 1_048_576,
    };
  }

  listId(l: number): string {
    return String(101_000_000_001 + l);
  }

  list(l: number): Json {
    // Lists have no code unless set: the key is omitted, as Anaplan does.
    return l % 2 === 0
      ? { id: this.listId(l), name: `List ${l + 1}`, code: `L${l + 1}` }
      : { id: this.listId(l), name: `List ${l + 1}` };
  }

  listIndexOf(id: string): number | undefined {
    return indexOf(this.size.listsPerModel, (l) => this.listId(l) === id);
  }

  listMetadata(l: number): Json {
    return {
      ...this.list(l),
      properties: [{ name: 'Region Code', format: 'TEXT', notes: '', referencedBy: '' }],
      hasSelectiveAccess: l === 0,
      ...(l > 0 ? { parent: { id: this.listId(l - 1), name: `List ${l}` } } : {}),
      managedBy: '',
      numberedList: l % 3 === 2,
      useTopLevelAsPageDefault: false,
      itemCount: 10 * (l + 1),
      workflowEnabled: false,
      productionData: l === 0,
    };
  }

  moduleId(k: number): string {
    return String(102_000_000_001 + k);
  }

  module(k: number): Json {
    return { id: this.moduleId(k), name: `Module ${k + 1}` };
  }

  /** Views: each module's default view (the module's id) and one saved view. */
  viewCount(): number {
    return this.size.modulesPerModel * 2;
  }

  view(v: number): Json {
    const k = Math.floor(v / 2);
    return v % 2 === 0
      ? { id: this.moduleId(k), name: `Module ${k + 1}`, moduleId: this.moduleId(k) }
      : {
          id: String(1_030_000_000_001 + k),
          name: `Module ${k + 1} Review`,
          moduleId: this.moduleId(k),
          code: `V${k + 1}`,
        };
  }

  lineItemCount(): number {
    return this.size.modulesPerModel * this.size.lineItemsPerModule;
  }

  /** Line item `i` of the model, with `includeAll=true` fields. */
  lineItem(i: number): Json {
    const k = Math.floor(i / this.size.lineItemsPerModule);
    const lists = this.size.listsPerModel;
    const item: Json = {
      moduleId: this.moduleId(k),
      moduleName: `Module ${k + 1}`,
      id: String(206_000_000_001 + i),
      name: `Line item ${i + 1}`,
      format: FORMATS[i % FORMATS.length],
      formatMetadata: { dataType: FORMATS[i % FORMATS.length] },
      formulaScope: 'All Versions',
      summary: 'Sum',
      timeScale: i % 3 === 2 ? 'Not Applicable' : 'Month',
      timeRange: 'timeRange1',
      style: 'Normal',
      isSummary: false,
      startOfSection: false,
      broughtForward: false,
      useSwitchover: false,
      breakback: false,
      cellCount: 12 * (i + 1),
      version:
        i % 5 === 4 ? { name: 'Not Applicable', id: '0' } : { name: 'All', id: '16000000000' },
    };
    if (i % 2 === 0) {
      item['formula'] = `'Line item ${i}' * 1.07`;
    }
    // An empty appliesTo is omitted; some point at a list subset (109…), not a list.
    if (lists > 0 && i % 4 !== 3) {
      item['appliesTo'] = [
        { id: this.listId(i % lists), name: `List ${(i % lists) + 1}` },
        ...(i % 4 === 1 ? [{ id: '109000000001', name: 'Active Regions' }] : []),
      ];
    }
    return item;
  }

  versions(): readonly Json[] {
    return VERSIONS.map((version) => ({
      ...version,
      editFrom: { periodText: 'Start of Timescale', date: '2023-01-01' },
      editTo: { periodText: 'End of Timescale', date: '2026-12-31' },
    }));
  }

  calendar(): Json {
    return {
      calendarType: 'Calendar Months/Quarters/Years',
      fiscalYear: { year: 'FY25', startDate: '2025-01-01', endDate: '2025-12-31' },
      currentPeriod: { periodText: 'Jun 25', lastDay: '2025-06-30' },
      pastYearsCount: 1,
      futureYearsCount: 2,
    };
  }
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

function indexOf(count: number, matches: (index: number) => boolean): number | undefined {
  for (let index = 0; index < count; index += 1) {
    if (matches(index)) {
      return index;
    }
  }
  return undefined;
}
