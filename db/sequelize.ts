import { Sequelize } from 'sequelize';

export interface DatabaseOptions {
  url: string;
  poolMin: number;
  poolMax: number;
}

/**
 * The pool follows the storage requirement: idle connections recycled after 600 s, 30 s to acquire or connect.
 * Sequelize validates a connection before handing it out (pre-ping) and evicts broken ones.
 */
export function createSequelize(opts: DatabaseOptions): Sequelize {
  return new Sequelize(opts.url, {
    dialect: 'postgres',
    logging: false,
    benchmark: false,
    pool: { min: opts.poolMin, max: opts.poolMax, idle: 600_000, acquire: 30_000, evict: 60_000 },
    dialectOptions: { connectionTimeoutMillis: 30_000, application_name: 'mmm-ubi' },
    define: { underscored: true, timestamps: false, freezeTableName: true },
  });
}
