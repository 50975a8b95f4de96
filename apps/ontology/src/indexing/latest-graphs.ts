import type { ExtractedGraph } from '@studio/ontology';
import { latestGraph, type GraphPorts } from '../graph/graph-store';
import type { LatestGraphs } from './retrieval.controller';

/**
 * The latest graph of a context for retrieval. The same content gives the same graph object, so
 * retrieval's concept matcher and adjacency (built once per graph object) are reused across questions.
 * (A curator's conflict decision does not change the content hash; retrieval does not read conflicts.)
 */
export function latestGraphs(ports: Pick<GraphPorts, 'repos' | 'cache'>): LatestGraphs {
  const cached = new Map<string, { contentSha256: string; graph: ExtractedGraph }>();
  return {
    latest: async (tenant, contextId) => {
      const record = await latestGraph(ports, tenant, contextId);
      const key = JSON.stringify([tenant, contextId]);
      if (!record) {
        cached.delete(key);
        return null;
      }
      const hit = cached.get(key);
      if (hit?.contentSha256 === record.contentSha256) return hit.graph;
      const graph: ExtractedGraph = { concepts: record.concepts, relations: record.relations };
      cached.set(key, { contentSha256: record.contentSha256, graph });
      return graph;
    },
  };
}
