import { DestroyRef, effect, inject, untracked } from '@angular/core';
import { ActivatedRoute, ParamMap, Router } from '@angular/router';

/*
 * A page's view state (search, sort, filters, tab) kept in its URL's query parameters, so a
 * reload, a bookmark or a shared link opens the same view. Owns reading and writing those
 * parameters through the router; the page owns the state (its signals) and what the parameters
 * mean (a pure parse and write of its own).
 */

/** Marks this module's own navigations (NavigationExtras.info), told apart from links and back. */
const OWN = Symbol('query-state');

export interface QueryState<T> {
  /** The state in the URL's parameters: never throws, anything it cannot take is its default. */
  parse(params: ParamMap): T;
  /** The parameters of a state: null for a default (left out, to keep the URL short). */
  write(state: T): Record<string, string | null>;
  /** The page's current state (read in a reactive context: its signals are tracked). */
  read(): T;
  /** Make the page show `state` (the URL's, on load and when a link or the history changes it). */
  apply(state: T): void;
}

/**
 * Keep a page's state in the URL (call in an injection context, before the state is first used):
 * the URL's state is applied at once, then each change of the state replaces the URL (a new
 * search letter adds no history entry), merging with the other parameters (`?transport=`), and a
 * navigation that changes the parameters from outside (a link, back and forward) is applied
 * again. Nothing is written until the state changes: a URL with values the page cannot take
 * stays as it is, read as the defaults. Returns the state the URL opened on (applied already).
 */
export function keepInQueryParams<T>(state: QueryState<T>): T {
  const route = inject(ActivatedRoute);
  const router = inject(Router);
  let written: string | null = null;
  const take = (params: ParamMap) => {
    const next = state.parse(params);
    written = JSON.stringify(state.write(next));
    state.apply(next);
    return next;
  };
  // The route's parameters are a subject: the current ones at once (the state the page opens
  // on), then those of each navigation that changes them, while the router activates it. Our
  // own writes are not read back: one still on its way would undo a letter typed since.
  const opened: T[] = [];
  const params = route.queryParamMap.subscribe((map) => {
    if (opened.length === 0) opened.push(take(map));
    else if (router.currentNavigation()?.extras.info !== OWN) take(map);
  });
  if (opened.length === 0) throw new Error('keepInQueryParams: the route has no parameters yet');
  inject(DestroyRef).onDestroy(() => params.unsubscribe());
  effect(() => {
    const queryParams = state.write(state.read());
    const key = JSON.stringify(queryParams);
    if (key === written) return;
    written = key;
    untracked(
      () =>
        void router.navigate([], {
          relativeTo: route,
          queryParams,
          queryParamsHandling: 'merge',
          replaceUrl: true,
          info: OWN,
        }),
    );
  });
  return opened[0];
}
