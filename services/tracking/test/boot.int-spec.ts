import { serviceBootSuite } from '@flowline/platform/suites';
import { testTopicPrefix } from '@flowline/testing';
import { GRPC_SERVICE, SERVICE } from '../src/service';

// Own topic prefix (and so its own projector group): never joins the real tracking group.
serviceBootSuite({ service: SERVICE.name, grpcService: GRPC_SERVICE, env: () => ({ KAFKA_TOPIC_PREFIX: testTopicPrefix() }) });
