import { describe, expect, it } from 'vitest';
import { CommandGate } from './command-gate';

describe('CommandGate', () => {
  it('admits a command once, flags repeats and expired ones', () => {
    const gate = new CommandGate(1_000);
    expect(gate.admit({ commandId: 'a', expiresAt: 100 }, 50)).toBe('new');
    expect(gate.admit({ commandId: 'a', expiresAt: 100 }, 60)).toBe('duplicate');
    expect(gate.admit({ commandId: 'b', expiresAt: 100 }, 101)).toBe('expired');
    expect(gate.admit({ commandId: 'b', expiresAt: 100 }, 102)).toBe('duplicate');
  });

  it('forgets ids well after they expired', () => {
    const gate = new CommandGate(1_000);
    gate.admit({ commandId: 'a', expiresAt: 100 }, 50);
    gate.admit({ commandId: 'b', expiresAt: 5_000 }, 50);
    expect(gate.admit({ commandId: 'c', expiresAt: 9_000 }, 2_000)).toBe('new');
    expect(gate.size).toBe(2);
    expect(gate.admit({ commandId: 'a', expiresAt: 100 }, 2_001)).toBe('expired');
  });
});
