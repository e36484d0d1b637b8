import type {
  Asset,
  DiscoveredResource,
  JsonObject,
  JsonValue,
  Relationship,
} from '../../agent/plugin-api/index.ts';
import type {
  LineItem,
  ListMetadata,
  Model,
  ModelCalendar,
  NamedObject,
  Version,
  View,
  Workspace,
} from './records.ts';

// Pure record → asset functions. No I/O, no clock: the same record always gives the same asset.
// Qualified names are built from Anaplan's ids only, never from display names, so renaming a
// module or a list in Anaplan updates the asset instead of creating another. Formulas are
// reported as flags, not as text: a formula can hold the plan's own figures (`Revenue * 1.07`).

/** Asset types this connector emits. */
export const ANAPLAN_TYPES = {
  workspace: 'AnaplanWorkspace',
  model: 'AnaplanModel',
  module: 'AnaplanModule',
  lineItem: 'AnaplanLineItem',
  list: 'AnaplanList',
  dimension: 'AnaplanDimension',
  version: 'AnaplanVersion',
  view: 'AnaplanView',
} as const;

/** Relationship types. */
export const ANAPLAN_RELATIONSHIPS = {
  lineItemInModule: 'AnaplanLineItemInModule',
  lineItemDimensionedBy: 'AnaplanLineItemDimensionedBy',
  viewOfModule: 'AnaplanViewOfModule',
  listParent: 'AnaplanListParent',
} as const;

/** Anaplan's fixed ids of the system dimensions. */
export const SYSTEM_DIMENSIONS = {
  time: { id: '20000000003', name: 'Time' },
  versions: { id: '20000000020', name: 'Versions' },
} as const;

/** The model an asset belongs to, and the lists it has (the targets of dimension links). */
export interface ModelScope {
  readonly tenant: string;
  readonly workspaceId: string;
  readonly modelId: string;
  readonly listIds: ReadonlySet<string>;
}

/** `anaplan/<tenant>/<segments...>`; ids never hold `/`, but are escaped all the same. */
export function qualifiedName(tenant: string, ...segments: readonly string[]): string {
  return ['anaplan', tenant, ...segments.map(encodeURIComponent)].join('/');
}

function inModel(scope: ModelScope, ...segments: readonly string[]): string {
  return qualifiedName(scope.tenant, scope.workspaceId, scope.modelId, ...segments);
}

export function workspaceToAsset(tenant: string, workspace: Workspace): Asset {
  return {
    typeName: ANAPLAN_TYPES.workspace,
    qualifiedName: qualifiedName(tenant, workspace.id),
    name: workspace.name,
    attributes: compact({
      id: workspace.id,
      active: workspace.active,
      sizeAllowanceBytes: workspace.sizeAllowance,
      currentSizeBytes: workspace.currentSize,
    }),
  };
}

/** A model; `opened` is false for one whose contents were not read (archived, no access). */
export function modelToAsset(tenant: string, model: Model, opened: boolean): Asset {
  return {
    typeName: ANAPLAN_TYPES.model,
    qualifiedName: qualifiedName(tenant, model.currentWorkspaceId, model.id),
    name: model.name,
    parentQualifiedName: qualifiedName(tenant, model.currentWorkspaceId),
    attributes: compact({
      id: model.id,
      workspaceId: model.currentWorkspaceId,
      activeState: model.activeState,
      memoryUsageBytes: model.memoryUsage,
      isoCreationDate: model.isoCreationDate,
      lastModified: model.lastModified,
      lastModifiedByUserGuid: model.lastModifiedByUserGuid,
      lastSavedSerialNumber:
        model.lastSavedSerialNumber === undefined ? undefined : String(model.lastSavedSerialNumber),
      opened,
    }),
  };
}

export function moduleToAsset(scope: ModelScope, module: NamedObject): Asset {
  return {
    typeName: ANAPLAN_TYPES.module,
    qualifiedName: inModel(scope, 'modules', module.id),
    name: module.name,
    parentQualifiedName: inModel(scope),
    attributes: compact({ id: module.id, code: module.code, modelId: scope.modelId }),
  };
}

/** A line item, linked to its module and to every list and dimension it is dimensioned by. */
export function lineItemToAsset(scope: ModelScope, item: LineItem): Asset {
  const moduleQualifiedName = inModel(scope, 'modules', item.moduleId);
  return {
    typeName: ANAPLAN_TYPES.lineItem,
    qualifiedName: `${moduleQualifiedName}/lineItems/${encodeURIComponent(item.id)}`,
    name: item.name,
    parentQualifiedName: moduleQualifiedName,
    attributes: compact({
      id: item.id,
      code: item.code,
      moduleId: item.moduleId,
      format: item.format,
      dataType: item.formatMetadata?.dataType,
      hasFormula: item.formula === undefined ? undefined : item.formula.trim() !== '',
      formulaScope: item.formulaScope,
      summary: item.summary,
      timeScale: item.timeScale,
      timeRange: item.timeRange,
      style: item.style,
      notes: item.notes,
      isSummary: item.isSummary,
      startOfSection: item.startOfSection,
      broughtForward: item.broughtForward,
      useSwitchover: item.useSwitchover,
      breakback: item.breakback,
      cellCount: item.cellCount,
      appliesToIds: item.appliesTo?.map((entry) => entry.id),
      versionId: item.version?.id,
      dataTagIds: item.dataTags?.map((tag) => tag.id),
      referencedByIds: item.referencedBy?.map((entry) => entry.id),
      parentLineItemId: item.parent?.id,
      readAccessDriverId: item.readAccessDriver?.id,
      writeAccessDriverId: item.writeAccessDriver?.id,
    }),
    relationships: [
      {
        typeName: ANAPLAN_RELATIONSHIPS.lineItemInModule,
        targetQualifiedName: moduleQualifiedName,
      },
      ...dimensionLinks(scope, item),
    ],
  };
}

/**
 * What a line item is dimensioned by: the lists of its `appliesTo` (subsets, which are not
 * assets, stay in the attributes), Time when it has a time scale, Versions when it has a version.
 */
function dimensionLinks(scope: ModelScope, item: LineItem): Relationship[] {
  const targets = (item.appliesTo ?? [])
    .filter((entry) => scope.listIds.has(entry.id))
    .map((entry) => inModel(scope, 'lists', entry.id));
  if (item.timeScale !== undefined && !/^not applicable$/i.test(item.timeScale)) {
    targets.push(inModel(scope, 'dimensions', SYSTEM_DIMENSIONS.time.id));
  }
  if (item.version !== undefined && !/^not applicable$/i.test(item.version.name ?? '')) {
    targets.push(inModel(scope, 'dimensions', SYSTEM_DIMENSIONS.versions.id));
  }
  return [...new Set(targets)].map((targetQualifiedName) => ({
    typeName: ANAPLAN_RELATIONSHIPS.lineItemDimensionedBy,
    targetQualifiedName,
  }));
}

/** A list with its shape (properties, parent, item count), never its items. */
export function listToAsset(scope: ModelScope, list: NamedObject, meta?: ListMetadata): Asset {
  const parentId = meta?.parent?.id;
  const linksParent = parentId !== undefined && scope.listIds.has(parentId);
  return {
    typeName: ANAPLAN_TYPES.list,
    qualifiedName: inModel(scope, 'lists', list.id),
    name: list.name,
    parentQualifiedName: inModel(scope),
    attributes: compact({
      id: list.id,
      code: list.code,
      itemCount: meta?.itemCount,
      properties: meta?.properties?.map((p) => compact({ name: p.name, format: p.format })),
      parentListId: parentId,
      hasSelectiveAccess: meta?.hasSelectiveAccess,
      numberedList: meta?.numberedList,
      productionData: meta?.productionData,
      workflowEnabled: meta?.workflowEnabled,
      managedBy: meta?.managedBy === '' ? undefined : meta?.managedBy,
    }),
    ...(linksParent
      ? {
          relationships: [
            {
              typeName: ANAPLAN_RELATIONSHIPS.listParent,
              targetQualifiedName: inModel(scope, 'lists', parentId),
            },
          ],
        }
      : {}),
  };
}

/** A system dimension (Time, Versions); Time carries the model's calendar when it was readable. */
export function dimensionToAsset(
  scope: ModelScope,
  dimension: { readonly id: string; readonly name: string },
  calendar?: ModelCalendar,
): Asset {
  return {
    typeName: ANAPLAN_TYPES.dimension,
    qualifiedName: inModel(scope, 'dimensions', dimension.id),
    name: dimension.name,
    parentQualifiedName: inModel(scope),
    attributes: compact({
      id: dimension.id,
      system: true,
      calendar,
    }),
  };
}

export function versionToAsset(scope: ModelScope, version: Version): Asset {
  return {
    typeName: ANAPLAN_TYPES.version,
    qualifiedName: inModel(scope, 'dimensions', SYSTEM_DIMENSIONS.versions.id, version.id),
    name: version.name,
    parentQualifiedName: inModel(scope, 'dimensions', SYSTEM_DIMENSIONS.versions.id),
    attributes: compact({
      id: version.id,
      code: version.code,
      isActual: version.isActual,
      isCurrent: version.isCurrent,
      editFrom: version.editFrom?.periodText,
      editTo: version.editTo?.periodText,
      switchover: version.switchover?.periodText,
      hasFormula: version.formula === undefined ? undefined : version.formula.trim() !== '',
    }),
  };
}

/** A view under its module (a module's default view has the module's id). */
export function viewToAsset(scope: ModelScope, view: View): Asset {
  const moduleQualifiedName =
    view.moduleId === undefined ? undefined : inModel(scope, 'modules', view.moduleId);
  const parent = moduleQualifiedName ?? inModel(scope);
  return {
    typeName: ANAPLAN_TYPES.view,
    qualifiedName: `${parent}/views/${encodeURIComponent(view.id)}`,
    name: view.name,
    parentQualifiedName: parent,
    attributes: compact({
      id: view.id,
      code: view.code,
      moduleId: view.moduleId,
      isDefault: view.moduleId === undefined ? undefined : view.id === view.moduleId,
    }),
    ...(moduleQualifiedName === undefined
      ? {}
      : {
          relationships: [
            {
              typeName: ANAPLAN_RELATIONSHIPS.viewOfModule,
              targetQualifiedName: moduleQualifiedName,
            },
          ],
        }),
  };
}

export function workspaceToResource(workspace: Workspace): DiscoveredResource {
  return {
    kind: 'workspace',
    id: workspace.id,
    name: workspace.name,
    attributes: compact({ active: workspace.active }),
  };
}

export function modelToResource(model: Model): DiscoveredResource {
  return {
    kind: 'model',
    id: model.id,
    name: model.name,
    parentId: model.currentWorkspaceId,
    attributes: compact({ state: model.activeState }),
  };
}

/** Drops undefined values, so attributes hold only what Anaplan said. */
function compact(values: Record<string, JsonValue | undefined>): JsonObject {
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) {
      result[key] = value;
    }
  }
  return result;
}
