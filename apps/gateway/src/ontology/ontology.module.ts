import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceClient } from '../upstream/service-client';
import { OntologyController } from './ontology.controller';

/** A context's ontology (concepts, relations, versions, conflicts, SKOS), forwarded to the ontology service. */
@Module({})
export class OntologyApiModule {
  static forRoot(upstream: ServiceClient): DynamicModule {
    return { module: OntologyApiModule, controllers: [OntologyController], providers: [{ provide: ServiceClient, useValue: upstream }] };
  }
}
