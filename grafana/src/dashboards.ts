/** The two provisioned dashboards, as code, one file each. `npm run dashboards` writes their JSON. */
import { clusterOverview } from './dashboards/cluster-overview.ts';
import { host } from './dashboards/host.ts';

export { clusterOverview, host };
export const DASHBOARDS = { 'cluster-overview.json': clusterOverview, 'host.json': host } as const;
