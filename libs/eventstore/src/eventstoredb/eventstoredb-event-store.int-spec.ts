import { describe, expect, it } from 'vitest';
import { eventStoreContract } from '../testing/event-store-contract';
import { EventStoreDbEventStore } from './eventstoredb-event-store';

// Runs the shared contract against a real EventStoreDB when EVENTSTORE_URL is set
// (e.g. esdb://127.0.0.1:2113?tls=false from deploy/docker-compose.yml). No server is started
// by the test setup, so without it the suite reports that it did not run.
const url = process.env.EVENTSTORE_URL;

if (url) {
  eventStoreContract('eventstoredb', async () => {
    const store = EventStoreDbEventStore.connect(url);
    return { store, dispose: () => store.close() };
  });
} else {
  console.log('EventStoreDB contract suite skipped: EVENTSTORE_URL not set');
  describe('EventStore contract: eventstoredb', () => {
    it('did not run: EVENTSTORE_URL is not set (set it to an EventStoreDB connection string to run the suite)', () => {
      expect(process.env.EVENTSTORE_URL).toBeUndefined();
    });
  });
}
