// Remote URLs as people see them: a password or token in a URL's userinfo is never printed.

/** A URL with its password (or token) replaced, for anything a person or a log reads. */
export const redactRemote = (remote: string): string => remote.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*):[^/@]*@/i, '$1:***@');

/**
 * A URL without its userinfo (user and password), for a host that brings its own git credentials
 * (a remote factory): a coordinator never hands the project's credentials to another machine.
 * Local paths and scp-like remotes (git@host:repo) are returned unchanged.
 */
export const withoutCredentials = (remote: string): string => remote.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
