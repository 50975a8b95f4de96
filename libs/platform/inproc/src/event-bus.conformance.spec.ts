import { describeEventBusConformance } from '@studio/testing';
import { InMemoryProcessedEventStore, InProcessEventBus } from './event-bus';

describeEventBusConformance('InProcessEventBus', async () => {
  const buses: InProcessEventBus[] = [];
  const processedEvents = new InMemoryProcessedEventStore();
  return {
    bus: ({ groupId, retry }) => {
      const bus = new InProcessEventBus({ groupId, retry, processedEvents });
      buses.push(bus);
      return bus;
    },
    deadLetters: async () => buses.flatMap((b) => b.deadLetters),
    transportTopic: (topic) => topic,
    publishRaw: async (bus, topic, key, value) => (bus as InProcessEventBus).publishRaw(topic, key, value),
  };
});
