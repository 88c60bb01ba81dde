import { serviceBootSuite } from '@flowline/platform/suites';
import { testTopicPrefix } from '@flowline/testing';
import { GRPC_SERVICE, SERVICE } from '../src/service';

// Own topic prefix: the process manager's consumer group is prefixed too, so the boot test never
// joins (or commits offsets for) the real `order-intake` group on a shared broker.
serviceBootSuite({ service: SERVICE.name, grpcService: GRPC_SERVICE, env: () => ({ KAFKA_TOPIC_PREFIX: testTopicPrefix() }) });
