import { describe, expect, it } from 'vitest';
import { AssetSchema } from '../../agent/plugin-api/index.ts';
import lineItemJson from './__fixtures__/line-item.json' with { type: 'json' };
import listMetadataJson from './__fixtures__/list-metadata.json' with { type: 'json' };
import modelsJson from './__fixtures__/models.page-1.json' with { type: 'json' };
import modulesEmptyJson from './__fixtures__/modules.empty.json' with { type: 'json' };
import {
  ANAPLAN_RELATIONSHIPS,
  dimensionToAsset,
  lineItemToAsset,
  listToAsset,
  modelToAsset,
  modelToResource,
  versionToAsset,
  viewToAsset,
} from './map.ts';
import type { ModelScope } from './map.ts';
import {
  LineItemSchema,
  ListMetadataSchema,
  ModelSchema,
  NamedObjectSchema,
  pageSchema,
} from './records.ts';

const scope: ModelScope = {
  tenant: 'acme',
  workspaceId: '8a868cd985f53e7701855e8f1e3d7d0a',
  modelId: '75A40874E6B64FA3AE0743278996850F',
  listIds: new Set(['101000000000', '101000000001']),
};
const modelQualifiedName = `anaplan/acme/${scope.workspaceId}/${scope.modelId}`;

describe('Anaplan records', () => {
  it('reads a page whose empty collection Anaplan left out as no items', () => {
    const page = pageSchema('modules', NamedObjectSchema).parse(modulesEmptyJson);
    expect(page).toEqual({
      paging: { currentPageSize: 0, totalSize: 0, offset: 0 },
      items: [],
    });
  });

  it('keeps no field it does not name: the model URL and category values are dropped', () => {
    const page = pageSchema('models', ModelSchema).parse(modelsJson);
    expect(page.items[0]).not.toHaveProperty('modelUrl');
    expect(page.items[0]).not.toHaveProperty('categoryValues');
  });
});

describe('Anaplan record → asset', () => {
  it('names a line item by ids under its module and links it to its module and dimensions', () => {
    const asset = lineItemToAsset(scope, LineItemSchema.parse(lineItemJson));
    expect(AssetSchema.parse(asset)).toEqual(asset);
    expect(asset.qualifiedName).toBe(
      `${modelQualifiedName}/modules/102000000001/lineItems/206000000006`,
    );
    expect(asset.parentQualifiedName).toBe(`${modelQualifiedName}/modules/102000000001`);
    expect(asset.relationships).toEqual([
      {
        typeName: ANAPLAN_RELATIONSHIPS.lineItemInModule,
        targetQualifiedName: `${modelQualifiedName}/modules/102000000001`,
      },
      // The subsets (109…, 114…) are not assets: only the list, Time and Versions are linked.
      {
        typeName: ANAPLAN_RELATIONSHIPS.lineItemDimensionedBy,
        targetQualifiedName: `${modelQualifiedName}/lists/101000000000`,
      },
      {
        typeName: ANAPLAN_RELATIONSHIPS.lineItemDimensionedBy,
        targetQualifiedName: `${modelQualifiedName}/dimensions/20000000003`,
      },
      {
        typeName: ANAPLAN_RELATIONSHIPS.lineItemDimensionedBy,
        targetQualifiedName: `${modelQualifiedName}/dimensions/20000000020`,
      },
    ]);
    expect(asset.attributes['appliesToIds']).toEqual([
      '109000000001',
      '114000000001',
      '101000000000',
    ]);
  });

  it('reports that a line item has a formula without the formula text, which can hold figures', () => {
    const asset = lineItemToAsset(scope, LineItemSchema.parse(lineItemJson));
    expect(asset.attributes).toMatchObject({ hasFormula: true, format: 'NUMBER', cellCount: 51 });
    expect(JSON.stringify(asset)).not.toContain('3 + 9');
  });

  it('links a line item with no time scale and no version to neither Time nor Versions', () => {
    const item = LineItemSchema.parse({
      ...lineItemJson,
      timeScale: 'Not Applicable',
      version: { name: 'Not Applicable', id: '0' },
      appliesTo: undefined,
    });
    const asset = lineItemToAsset(scope, item);
    expect(asset.relationships?.map((r) => r.typeName)).toEqual([
      ANAPLAN_RELATIONSHIPS.lineItemInModule,
    ]);
  });

  it('maps a list with its properties and parent list, never an item', () => {
    const { metadata } = ListMetadataSchema.parse(listMetadataJson);
    const asset = listToAsset(scope, { id: metadata.id, name: metadata.name }, metadata);
    expect(asset).toMatchObject({
      typeName: 'AnaplanList',
      qualifiedName: `${modelQualifiedName}/lists/101000000001`,
      attributes: { itemCount: 1, properties: [{ name: 'Salesforce', format: 'TEXT' }] },
      relationships: [
        {
          typeName: ANAPLAN_RELATIONSHIPS.listParent,
          targetQualifiedName: `${modelQualifiedName}/lists/101000000000`,
        },
      ],
    });
    expect(asset.attributes).not.toHaveProperty('managedBy');
  });

  it('reports a model with its state and memory use, and whether it was opened', () => {
    const model = ModelSchema.parse(modelsJson.models[0]);
    const asset = modelToAsset('acme', model, false);
    expect(asset).toMatchObject({
      qualifiedName: modelQualifiedName,
      parentQualifiedName: `anaplan/acme/${scope.workspaceId}`,
      attributes: {
        activeState: 'UNLOCKED',
        memoryUsageBytes: 104857600,
        lastSavedSerialNumber: '2000012',
        opened: false,
      },
    });
    expect(modelToResource(model)).toEqual({
      kind: 'model',
      id: model.id,
      name: 'FP&A Model',
      parentId: scope.workspaceId,
      attributes: { state: 'UNLOCKED' },
    });
  });

  it('places a view under its module, linked to it; a default view shares the module id', () => {
    const asset = viewToAsset(scope, {
      id: '102000000001',
      name: 'Revenue',
      moduleId: '102000000001',
    });
    expect(asset.qualifiedName).toBe(
      `${modelQualifiedName}/modules/102000000001/views/102000000001`,
    );
    expect(asset.attributes['isDefault']).toBe(true);
    expect(asset.relationships?.[0]?.typeName).toBe(ANAPLAN_RELATIONSHIPS.viewOfModule);
  });

  it('puts versions under the Versions dimension and the calendar on Time', () => {
    const version = versionToAsset(scope, { id: '107000000001', name: 'Actual', isActual: true });
    expect(version.parentQualifiedName).toBe(`${modelQualifiedName}/dimensions/20000000020`);
    const time = dimensionToAsset(
      scope,
      { id: '20000000003', name: 'Time' },
      { calendarType: 'Calendar Months/Quarters/Years', pastYearsCount: 1 },
    );
    expect(time.attributes).toEqual({
      id: '20000000003',
      system: true,
      calendar: { calendarType: 'Calendar Months/Quarters/Years', pastYearsCount: 1 },
    });
  });
});
