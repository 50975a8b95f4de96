import { kafkaClientSecurity } from './kafka-event-bus';

describe('kafkaClientSecurity', () => {
  it('gives kafkajs nothing when there is no security', () => {
    expect(kafkaClientSecurity(undefined)).toEqual({});
    expect(kafkaClientSecurity({ sasl: null, ssl: false })).toEqual({});
  });

  it('gives kafkajs the SASL mechanism and credentials, and TLS', () => {
    expect(kafkaClientSecurity({ sasl: { mechanism: 'scram-sha-256', username: 'auditor', password: 'pw' }, ssl: true })).toEqual({
      sasl: { mechanism: 'scram-sha-256', username: 'auditor', password: 'pw' },
      ssl: true,
    });
    expect(kafkaClientSecurity({ sasl: null, ssl: true })).toEqual({ ssl: true });
  });
});
