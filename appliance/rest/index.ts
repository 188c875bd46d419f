export { createApp } from './app.js'
export { loadOrCreateToken, TokenFileSource } from './token-file.js'
export { listenRest, type RestListener } from './listen.js'
