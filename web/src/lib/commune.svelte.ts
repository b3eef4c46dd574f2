/**
 * Which commune the console is looking at.
 *
 * A commune user always sees their own commune: the header shows its name and
 * every call is the server's business. A province user sees the whole
 * province ("Toàn tỉnh") or one commune picked in the header's switcher; the
 * choice is remembered on this browser. api.ts reads it (setCommuneFilter) to
 * narrow lists with `?commune=` and to send `commune` with creates, and
 * ConsolePage remounts the page when it changes, so no page repeats that.
 *
 * A create form asks which commune only when nothing is chosen and the
 * province has two or more (`mustChoose`, CommuneField.svelte): with one
 * commune the server knows where it goes.
 */
import { api, setCommuneFilter, type Commune } from './api';
import type { Who } from './permissions';

export type CommuneStatus = 'idle' | 'loading' | 'ready' | 'error';

const STORAGE_KEY = 'loaxa.commune';
const NAME_ORDER = new Intl.Collator('vi', { numeric: true });

class CommuneScope {
  communes = $state<Commune[]>([]);
  status = $state<CommuneStatus>('idle');
  /** The signed-in user's commune: null for a province user, undefined while nobody is signed in. */
  own = $state<string | null | undefined>(undefined);
  /** A province user's choice in the header: one commune's id, or null for the whole province. */
  selected = $state<string | null>(null);
  /** Moves whenever the choice changes: the console remounts the page on it (ConsolePage). */
  version = $state(0);

  /** True for a province user. */
  get province(): boolean {
    return this.own === null;
  }

  /** The commune lists and creates are narrowed to; undefined for "Toàn tỉnh" and for commune users. */
  get current(): string | undefined {
    return this.province && this.selected ? this.selected : undefined;
  }

  /** A create form has to ask which commune: the whole province is shown and it has several. */
  get mustChoose(): boolean {
    return this.province && !this.selected && this.communes.length >= 2;
  }

  /** The commune's name (the id until the list has loaded). */
  name(id: string | null | undefined): string {
    if (!id) return '';
    return this.communes.find((commune) => commune.id === id)?.name ?? id;
  }

  /**
   * The commune a form's new item goes to: the form's own pick, the header's
   * choice, the user's own, or the province's only commune; undefined while
   * the form still has to ask.
   */
  target(picked?: string): string | undefined {
    if (picked) return picked;
    if (this.current) return this.current;
    if (this.own) return this.own;
    return this.communes.length === 1 ? this.communes[0]!.id : undefined;
  }

  /** Call once signed in. */
  start(user: Who): void {
    this.own = user.communeId;
    this.selected = this.province ? readStored() : null;
    void this.load();
  }

  stop(): void {
    this.own = undefined;
    this.selected = null;
    this.communes = [];
    this.status = 'idle';
  }

  async load(): Promise<void> {
    if (this.status !== 'ready') this.status = 'loading';
    try {
      const communes = await api.communes();
      this.communes = [...communes].sort((a, b) => NAME_ORDER.compare(a.name, b.name));
      this.status = 'ready';
      // A commune that no longer exists (or another install's) is not a choice.
      if (this.selected && !this.communes.some((commune) => commune.id === this.selected)) this.select(null);
    } catch {
      if (this.status !== 'ready') this.status = 'error';
    }
  }

  /** A province user's choice: a commune's id, or null for the whole province. */
  select(id: string | null): void {
    if (!this.province || id === this.selected) return;
    this.selected = id;
    this.version++;
    try {
      if (id) localStorage.setItem(STORAGE_KEY, id);
      else localStorage.removeItem(STORAGE_KEY);
    } catch {
      // Not remembered; the choice still applies to this visit.
    }
  }

  /** A commune was created or renamed on the communes page. */
  adopt(commune: Commune): void {
    const others = this.communes.filter((c) => c.id !== commune.id);
    this.communes = [...others, commune].sort((a, b) => NAME_ORDER.compare(a.name, b.name));
  }
}

function readStored(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY) || null;
  } catch {
    return null;
  }
}

export const communeScope = new CommuneScope();

setCommuneFilter(() => communeScope.current);

/** Only the items of `commune` (all of them when undefined): a form's choices for the commune it creates in. */
export function ofCommune<T extends { communeId?: string | null }>(
  items: readonly T[],
  commune: string | undefined,
): T[] {
  return commune ? items.filter((item) => item.communeId === commune) : [...items];
}
