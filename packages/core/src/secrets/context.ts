import type { CoreContext } from "../context";
import type { SecretStore } from "./secret-store";

export interface SecretContext extends CoreContext {
  readonly secrets: SecretStore;
}
