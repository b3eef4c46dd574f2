import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** Shared by the Vite plugin and svelte-check. Plain CSS, TypeScript in <script lang="ts">. */
export default {
  preprocess: vitePreprocess(),
};
